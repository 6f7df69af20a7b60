package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/store/storetest"
)

func TestStaffCourses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, nil)
		ctx := context.Background()
		staff := e.catalogStaff("siri@portal.example")

		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			field  string
			want   string
		}{
			{"no provider", url.Values{"name": {"Fire"}, "external-id": {"FIRE"}}, http.StatusBadRequest, "provider", "choose the provider"},
			{"unknown provider", url.Values{"name": {"Fire"}, "external-id": {"FIRE"}, "provider": {"nobody"}}, http.StatusConflict, "provider", "no provider"},
			{"no name, bad id", url.Values{"external-id": {"A/B"}, "provider": {"acme"}}, http.StatusBadRequest, "external-id", "without '/'"},
			{"taken external id", url.Values{"name": {"Again"}, "external-id": {"BST"}, "provider": {"acme"}}, http.StatusConflict, "external-id", "already has a course"},
		} {
			p := staff.post("/staff/courses", tc.form)
			errText := text(p.doc.Find("#" + tc.field + "-error"))
			if p.status != tc.status || !strings.Contains(errText, tc.want) || p.doc.Find("#"+tc.field).AttrOr("aria-invalid", "") != "true" {
				t.Errorf("%s: status %d, %s error %q; page: %s", tc.name, p.status, tc.field, errText, text(p.doc.Find("main")))
			}
			if v := tc.form.Get("provider"); v == "acme" && p.doc.Find("#provider option[selected]").AttrOr("value", "") != "acme" {
				t.Errorf("%s: the form lost the provider", tc.name)
			}
		}
		if p := staff.post("/staff/courses", url.Values{"external-id": {"X"}, "provider": {"acme"}}); !strings.Contains(text(p.doc.Find("#name-error")), "is required") {
			t.Errorf("no name: %s", text(p.doc.Find("main")))
		}

		p := staff.post("/staff/courses", url.Values{"name": {"Fire Protection"}, "external-id": {"FP-1"}, "provider": {"nord"}, "description": {"One day."}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("create: status %d %s", p.status, text(p.doc.Find("main")))
		}
		courses, _ := e.cat.AllCourses(ctx, "nord")
		var fp = courses[0]
		for _, c := range courses {
			if c.ExternalID == "FP-1" {
				fp = c
			}
		}
		if fp.ExternalID != "FP-1" || fp.Name != "Fire Protection" || fp.Description != "One day." {
			t.Fatalf("nord's courses: %+v", courses)
		}
		list := staff.get("/staff/courses")
		if row := list.doc.Find(`tr[data-course="FP-1"]`); !strings.Contains(text(row), "Nord Kurs") || !strings.Contains(text(list.doc.Find(".flash")), "FP-1") {
			t.Errorf("the list shows %q", text(row))
		}

		// A course without classes may move to another provider under another id.
		edit := url.Values{"name": {"Fire Protection 1"}, "external-id": {"FP-2"}, "provider": {"acme"}, "description": {"One day."}}
		if p = staff.post("/staff/courses/"+itoa(fp.ID), edit); p.status != http.StatusSeeOther {
			t.Fatalf("edit: status %d %s", p.status, text(p.doc.Find("main")))
		}
		if got, _ := e.cat.CourseByID(ctx, fp.ID); got.ExternalID != "FP-2" || got.ProviderID != e.acme.ID || got.Name != "Fire Protection 1" {
			t.Errorf("after edit: %+v", got)
		}
		if f := staff.get("/staff/courses/" + itoa(fp.ID)); f.doc.Find("#provider option[selected]").AttrOr("value", "") != "acme" ||
			f.doc.Find("#external-id").AttrOr("value", "") != "FP-2" {
			t.Errorf("the edit form shows %s", text(f.doc.Find("form")))
		}

		// One with classes keeps its provider and id; its name may change.
		e.addClass(classSpec{ext: "C1", seats: 3})
		for _, tc := range []struct {
			name, field string
			form        url.Values
		}{
			{"new id", "external-id", url.Values{"name": {"BST"}, "external-id": {"BST-2"}, "provider": {"acme"}}},
			{"new provider", "provider", url.Values{"name": {"BST"}, "external-id": {"BST"}, "provider": {"nord"}}},
		} {
			p := staff.post("/staff/courses/"+itoa(e.bst.ID), tc.form)
			if p.status != http.StatusBadRequest || !strings.Contains(text(p.doc.Find("#"+tc.field+"-error")), "has classes") {
				t.Errorf("%s: status %d %s", tc.name, p.status, text(p.doc.Find("main")))
			}
		}
		if p = staff.post("/staff/courses/"+itoa(e.bst.ID), url.Values{"name": {"Basic Safety"}, "external-id": {"BST"}, "provider": {"acme"}}); p.status != http.StatusSeeOther {
			t.Errorf("rename: status %d %s", p.status, text(p.doc.Find("main")))
		}
		if got, _ := e.cat.CourseByID(ctx, e.bst.ID); got.Name != "Basic Safety" || got.ExternalID != "BST" {
			t.Errorf("after rename: %+v", got)
		}
		if p := staff.get("/staff/courses/999999"); p.status != http.StatusNotFound {
			t.Errorf("unknown course: status %d", p.status)
		}
	})
}
