package courseprovider_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"maps"
	"net/url"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/api/wire"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store/storetest"
)

// classesOf reads course BST's classes through p, in JSON or XML, by external id.
func classesOf(t *testing.T, p *portal, asXML bool) map[string]wire.Class {
	t.Helper()
	accept := "application/json"
	if asXML {
		accept = "application/xml"
	}
	r := p.postAt("v1/courses/get/BST/courseClasses", p.acme, nil, accept)
	expect(t, "getCourseClasses", r, 200)
	var list []wire.Class
	if asXML {
		var doc struct {
			Classes []wire.Class `xml:"courseClass"`
		}
		if err := xml.Unmarshal(r.body, &doc); err != nil {
			t.Fatalf("XML answer %s: %v", r.body, err)
		}
		list = doc.Classes
	} else if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatalf("JSON answer %s: %v", r.body, err)
	}
	out := map[string]wire.Class{}
	for _, c := range list {
		out[c.ExternalID] = c
	}
	return out
}

// TestClassCacheSeesEveryWrite reads course BST's classes through instance A, which
// caches its answers, while every kind of write goes through a second instance B on
// the same database (its own store, caches and server): A must answer each change at
// once, in JSON and in XML.
func TestClassCacheSeesEveryWrite(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		a := newPortal(t, dialect)
		b := newPortalAt(t, a.dbURL, a)
		acme, err := b.db.ProviderByUsername(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		var ref string // the booking made on W1
		classID := func(ext string) int64 {
			for _, c := range mustClasses(t, b, acme) {
				if c.ExternalID == ext {
					return c.ID
				}
			}
			t.Fatalf("no class %s", ext)
			return 0
		}
		steps := []struct {
			name  string
			write func(t *testing.T)
			check func(cs map[string]wire.Class) bool
		}{
			{"add class", func(t *testing.T) {
				expect(t, "add", b.post("/BST/courseClasses/add", b.acme, classForm("W1")), 200)
			}, func(cs map[string]wire.Class) bool { _, ok := cs["W1"]; return ok }},
			{"update class", func(t *testing.T) {
				expect(t, "update", b.post("/BST/courseClasses/update", b.acme, url.Values{"externalId": {"W1"}, "location": {"Bergen"}}), 200)
			}, func(cs map[string]wire.Class) bool { return cs["W1"].Location == "Bergen" }},
			{"booking takes a seat", func(t *testing.T) {
				bk := booking.Booking{Reference: booking.NewReference(), ClassID: classID("W1"), State: booking.Reserved,
					Student: booking.Person{FirstName: "Ola", LastName: "N"}, Enroller: booking.Person{Email: "kari@example.com"},
					CreatedAt: time.Now(), UpdatedAt: time.Now()}
				if err := b.db.CreateBooking(ctx, &bk, func(catalog.Class) error { return nil }); err != nil {
					t.Fatal(err)
				}
				ref = bk.Reference
			}, func(cs map[string]wire.Class) bool { return cs["W1"].AvailableSeats == 11 }},
			{"cancelled booking returns its seat", func(t *testing.T) {
				if _, err := b.db.ModifyBooking(ctx, ref, func(bk *booking.Booking) error { bk.State = booking.Cancelled; return nil }); err != nil {
					t.Fatal(err)
				}
			}, func(cs map[string]wire.Class) bool { return cs["W1"].AvailableSeats == 12 }},
			{"cancel a booked class (kept)", func(t *testing.T) {
				expect(t, "cancel", b.post("/BST/courseClasses/cancel/W1", b.acme, nil), 200)
			}, func(cs map[string]wire.Class) bool { return cs["W1"].Cancelled }},
			{"restore class", func(t *testing.T) {
				expect(t, "restore", b.post("/BST/courseClasses/restore/W1", b.acme, nil), 200)
			}, func(cs map[string]wire.Class) bool { c, ok := cs["W1"]; return ok && !c.Cancelled }},
			{"add a second class", func(t *testing.T) {
				expect(t, "add", b.post("/BST/courseClasses/add", b.acme, classForm("W2")), 200)
			}, func(cs map[string]wire.Class) bool { _, ok := cs["W2"]; return ok && len(cs) == 2 }},
			{"cancel an unbooked class (deleted)", func(t *testing.T) {
				expect(t, "cancel", b.post("/BST/courseClasses/cancel/W2", b.acme, nil), 200)
			}, func(cs map[string]wire.Class) bool { _, ok := cs["W2"]; return !ok && len(cs) == 1 }},
			{"sweep deletes a cancelled class", func(t *testing.T) {
				expect(t, "cancel", b.post("/BST/courseClasses/cancel/W1", b.acme, nil), 200)
				_ = classesOf(t, a, false) // cache the cancelled state
				_ = classesOf(t, a, true)
				if n, err := b.db.DeleteCancelledClasses(ctx, time.Now().Add(time.Hour), time.Now()); err != nil || n != 1 {
					t.Fatalf("sweep deleted %d, err %v", n, err)
				}
			}, func(cs map[string]wire.Class) bool { return len(cs) == 0 }},
		}
		for _, st := range steps {
			for _, asXML := range []bool{false, true} {
				_ = classesOf(t, a, asXML) // A caches the answer before the write
			}
			st.write(t)
			for _, asXML := range []bool{false, true} {
				if cs := classesOf(t, a, asXML); !st.check(cs) {
					t.Errorf("%s (xml %v): instance A answers %+v", st.name, asXML, cs)
				}
			}
		}
	})
}

func mustClasses(t *testing.T, p *portal, acme catalog.Provider) []catalog.Class {
	t.Helper()
	cs, err := p.catalog.Classes(context.Background(), acme, "BST")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestCredentialsChecksSeeOtherInstances: instance A has checked acme's password
// (and cached the check); a rotated password set through instance B must be refused
// by A on the very next call, and the new one accepted.
func TestCredentialsChecksSeeOtherInstances(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		a := newPortal(t, dialect)
		b := newPortalAt(t, a.dbURL, a)
		for _, path := range []string{"", "/BST/courseClasses"} {
			expect(t, "before", a.post(path, a.acme, nil), 200)
		}
		password, hash, err := auth.NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.catalog.ChangeProvider(context.Background(), "acme", catalog.ProviderChange{PasswordHash: &hash}); err != nil {
			t.Fatal(err)
		}
		fresh := url.Values{"username": {"acme"}, "password": {password}}
		for _, path := range []string{"", "/BST/courseClasses", "/BST/courseClasses/add"} {
			expect(t, "old password "+path, a.post(path, a.acme, classForm("X1")), 401)
		}
		for _, path := range []string{"", "/BST/courseClasses"} {
			expect(t, "new password "+path, a.post(path, fresh, nil), 200)
		}
	})
}

// TestCourseCacheSeesOtherInstances: instance A caches acme's getCourses answer; a
// course created, renamed or deleted through instance B's database must show in A's
// next answer, in JSON and in XML. A class write must not disturb it.
func TestCourseCacheSeesOtherInstances(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		a := newPortal(t, dialect)
		b := newPortalAt(t, a.dbURL, a)
		coursesOf := func(asXML bool) map[string]string { // external id -> name
			accept := "application/json"
			if asXML {
				accept = "application/xml"
			}
			r := a.postAt("v1/courses/get", a.acme, nil, accept)
			expect(t, "getCourses", r, 200)
			var list []struct {
				ExternalCourseID string `json:"externalCourseId" xml:"externalCourseId"`
				Name             string `json:"name" xml:"name"`
			}
			var err error
			if asXML {
				var doc struct {
					Courses *[]struct {
						ExternalCourseID string `json:"externalCourseId" xml:"externalCourseId"`
						Name             string `json:"name" xml:"name"`
					} `xml:"course"`
				}
				doc.Courses = &list
				err = xml.Unmarshal(r.body, &doc)
			} else {
				err = json.Unmarshal(r.body, &list)
			}
			if err != nil {
				t.Fatalf("answer %s: %v", r.body, err)
			}
			out := map[string]string{}
			for _, c := range list {
				out[c.ExternalCourseID] = c.Name
			}
			return out
		}
		exec := func(q string, args ...any) {
			if _, err := b.db.SQL().ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		steps := []struct {
			name  string
			write func()
			want  map[string]string
		}{
			{"course added", func() {
				if _, err := b.catalog.AddCourse(ctx, "acme", catalog.Course{Name: "Sea survival", ExternalID: "SEA"}); err != nil {
					t.Fatal(err)
				}
			}, map[string]string{"BST": "BST course", "SEA": "Sea survival"}},
			{"a class written (no change)", func() {
				expect(t, "add", b.post("/BST/courseClasses/add", b.acme, classForm("W1")), 200)
			}, map[string]string{"BST": "BST course", "SEA": "Sea survival"}},
			{"course renamed", func() { exec(`UPDATE courses SET name = 'Sea survival II' WHERE external_id = 'SEA'`) },
				map[string]string{"BST": "BST course", "SEA": "Sea survival II"}},
			{"course deleted", func() { exec(`DELETE FROM courses WHERE external_id = 'SEA'`) },
				map[string]string{"BST": "BST course"}},
		}
		for _, st := range steps {
			coursesOf(false)
			coursesOf(true)
			st.write()
			for _, asXML := range []bool{false, true} {
				if got := coursesOf(asXML); !maps.Equal(got, st.want) {
					t.Errorf("%s (xml %v): A answers %v, want %v", st.name, asXML, got, st.want)
				}
			}
		}
	})
}

// TestClassCacheSeesDeleteDuringUpdate: instance A caches course BST's classes while
// instance B deletes class W2 (cancel of an unbooked class) during a transaction that
// updates class W1, committed after the delete (on SQLite, with its one writer, the
// update commits first). A must answer each committed state at once.
func TestClassCacheSeesDeleteDuringUpdate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		a := newPortal(t, dialect)
		b := newPortalAt(t, a.dbURL, a)
		for _, ext := range []string{"W1", "W2"} {
			expect(t, "add", b.post("/BST/courseClasses/add", b.acme, classForm(ext)), 200)
		}
		check := func(step string, wantW2 bool, wantLocation string) {
			t.Helper()
			for _, asXML := range []bool{false, true} {
				cs := classesOf(t, a, asXML)
				if _, ok := cs["W2"]; ok != wantW2 || cs["W1"].Location != wantLocation {
					t.Errorf("%s (xml %v): instance A answers %+v", step, asXML, cs)
				}
			}
		}
		location := classesOf(t, a, false)["W1"].Location
		check("before", true, location)
		tx, err := b.db.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.ExecContext(ctx, `UPDATE classes SET location = 'Trondheim' WHERE external_id = 'W1'`); err != nil {
			t.Fatal(err)
		}
		if dialect != "postgres" {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			check("update committed", true, "Trondheim")
		}
		expect(t, "cancel", b.post("/BST/courseClasses/cancel/W2", b.acme, nil), 200)
		if dialect == "postgres" {
			check("W2 deleted, W1's update open", false, location)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		check("both committed", false, "Trondheim")
	})
}
