package portal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/api/portal"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestClassListCacheSeesEveryWrite lists course BST's classes through the portal,
// which caches the answer, while every kind of write goes through a second store on
// the same database, as another instance would: the next answer must show each one.
func TestClassListCacheSeesEveryWrite(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect)
		other, err := store.Open(ctx, e.dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		cat := &catalog.Service{Store: other, DefaultZone: "Europe/Oslo"}
		list := func(query string) map[string]classSeen {
			req, _ := http.NewRequest("GET", e.url+"/api/v1/classes?course="+strconv.FormatInt(e.bst.ID, 10)+query, nil)
			req.Header.Set("Authorization", "Bearer "+e.token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var got []classSeen
			if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != 200 {
				t.Fatalf("status %d, %v", res.StatusCode, err)
			}
			out := map[string]classSeen{}
			for _, c := range got {
				out[c.ExternalID] = c
			}
			return out
		}
		fields := func(ext string) catalog.ClassFields {
			return catalog.ClassFields{ExternalID: ptr(ext), Location: ptr("Oslo"), AvailableSeats: ptr("5"),
				EnrollmentDeadline: ptr(day(30)), CancellationDeadline: ptr(day(40)), StartDate: ptr(day(60)), EndDate: ptr(day(60)),
				AddressLine1: ptr("Storgata 1"), City: ptr("Oslo"), ZipCode: ptr("0155"), Country: ptr("NO"),
				Currency: ptr("NOK"), Amount: ptr("100")}
		}
		var ref string
		steps := []struct {
			name  string
			write func(t *testing.T) error
			check func(cs map[string]classSeen) bool
		}{
			{"add class", func(t *testing.T) error { _, err := cat.AddClass(ctx, e.acme, "BST", fields("K1")); return err },
				func(cs map[string]classSeen) bool { return cs["K1"].AvailableSeats == 5 }},
			{"update class", func(t *testing.T) error {
				_, err := cat.UpdateClass(ctx, e.acme, "BST", catalog.ClassFields{ExternalID: ptr("K1"), Location: ptr("Bergen")})
				return err
			}, func(cs map[string]classSeen) bool { return cs["K1"].Location == "Bergen" }},
			{"booking takes a seat", func(t *testing.T) error {
				var id int64
				for _, c := range mustFind(t, cat, e.bst.ID) {
					if c.ExternalID == "K1" {
						id = c.ID
					}
				}
				bk := booking.Booking{Reference: booking.NewReference(), ClassID: id, State: booking.Reserved,
					Student: booking.Person{FirstName: "Ola", LastName: "N"}, Enroller: booking.Person{Email: "kari@example.com"},
					CreatedAt: time.Now(), UpdatedAt: time.Now()}
				ref = bk.Reference
				return other.CreateBooking(ctx, &bk, func(catalog.Class) error { return nil })
			}, func(cs map[string]classSeen) bool { return cs["K1"].AvailableSeats == 4 }},
			{"cancelled booking returns its seat", func(t *testing.T) error {
				_, err := other.ModifyBooking(ctx, ref, func(b *booking.Booking) error { b.State = booking.Cancelled; return nil })
				return err
			}, func(cs map[string]classSeen) bool { return cs["K1"].AvailableSeats == 5 }},
			{"cancel class", func(t *testing.T) error { _, err := cat.CancelClass(ctx, e.acme, "BST", "K1"); return err },
				func(cs map[string]classSeen) bool { return cs["K1"].Cancelled }},
			{"restore class", func(t *testing.T) error { _, err := cat.RestoreClass(ctx, e.acme, "BST", "K1"); return err },
				func(cs map[string]classSeen) bool { c, ok := cs["K1"]; return ok && !c.Cancelled }},
			{"add and cancel an unbooked class", func(t *testing.T) error {
				if _, err := cat.AddClass(ctx, e.acme, "BST", fields("K2")); err != nil {
					return err
				}
				list("") // cached with K2
				_, err := cat.CancelClass(ctx, e.acme, "BST", "K2")
				return err
			}, func(cs map[string]classSeen) bool { _, ok := cs["K2"]; return !ok && len(cs) == 1 }},
		}
		for _, st := range steps {
			list("")
			if err := st.write(t); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if cs := list(""); !st.check(cs) {
				t.Errorf("%s: the portal answers %+v", st.name, cs)
			}
		}
		// Another filter on the same course is its own answer, not the cached one.
		if cs := list("&freeSeats=true&location=nowhere"); len(cs) != 0 {
			t.Errorf("filtered list: %+v", cs)
		}
		if cs := list(""); len(cs) != 1 {
			t.Errorf("unfiltered list after a filtered one: %+v", cs)
		}
	})
}

// classSeen is what the cache test reads of a listed class.
type classSeen struct {
	ExternalID     string `json:"externalId"`
	Location       string `json:"location"`
	AvailableSeats int    `json:"availableSeats"`
	Cancelled      bool   `json:"cancelled"`
}

func mustFind(t *testing.T, cat *catalog.Service, courseID int64) []catalog.Class {
	t.Helper()
	cs, err := cat.FindClasses(context.Background(), catalog.ClassFilter{CourseID: courseID})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestClassListIsEncodingJSON checks that the hand-encoded list is byte for byte what
// encoding/json writes for the same classes.
func TestClassListIsEncodingJSON(t *testing.T) {
	e := newEnv(t, "sqlite")
	for i := range 3 {
		e.addClass(classSpec{ext: "E" + strconv.Itoa(i), location: "Å<&>\"" + strconv.Itoa(i), seats: i})
	}
	for _, q := range []string{"", "?course=" + strconv.FormatInt(e.bst.ID, 10)} {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/classes"+q, nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var decoded []map[string]any
		if err := json.Unmarshal(got, &decoded); err != nil || len(decoded) != 3 {
			t.Fatalf("%s: %d classes, %v", q, len(decoded), err)
		}
		cs := mustFind(t, e.cat, e.bst.ID)
		var want bytes.Buffer
		dtos := make([]portal.ClassDTOForTest, 0, len(cs))
		for _, c := range cs {
			dtos = append(dtos, portal.ToClassDTOForTest(c))
		}
		_ = json.NewEncoder(&want).Encode(dtos)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s:\n got %s\nwant %s", q, got, want.Bytes())
		}
	}
}
