package portal_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/store/storetest"
)

// listPage is GET /api/v1/bookings's answer, as a client reads it.
type listPage struct {
	Bookings []struct {
		BookingReference string `json:"bookingReference"`
		Status           string `json:"status"`
		ClassID          int64  `json:"classId"`
		Company          string `json:"company"`
	} `json:"bookings"`
	NextCursor string `json:"nextCursor"`
}

func (e *env) list(t *testing.T, query string) (listPage, response) {
	t.Helper()
	r := e.do("GET", "/api/v1/bookings?"+query, e.token, "")
	var p listPage
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("list body %s: %v", r.body, err)
		}
	}
	return p, r
}

func refs(p listPage) []string {
	var out []string
	for _, b := range p.Bookings {
		out = append(out, b.BookingReference)
	}
	return out
}

func TestListBookings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a, b := e.addClass(classSpec{ext: "LIST-A", seats: 5}), e.addClass(classSpec{ext: "LIST-B", seats: 5})
		var made []string // oldest first
		for _, class := range []int64{a.ID, a.ID, b.ID, a.ID, b.ID} {
			made = append(made, e.book(class).str(t, "bookingReference"))
		}
		if r := e.do("POST", "/api/v1/bookings/"+made[1]+"/cancel", e.token, ""); r.status != 200 {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		newest := slices.Clone(made)
		slices.Reverse(newest)
		today := time.Now().UTC().Format(time.DateOnly)
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
		without := func(refs []string, drop ...string) []string {
			return slices.DeleteFunc(slices.Clone(refs), func(r string) bool { return slices.Contains(drop, r) })
		}
		for _, tc := range []struct {
			query string
			want  []string // references, newest first
		}{
			{"", newest},
			{"state=RESERVED", without(newest, made[1])},
			{"state=cancelled", []string{made[1]}},
			{"state=RESERVED,CANCELLED", newest},
			{"state=RESERVED&state=CANCELLED", newest},
			{"state=REJECTED", nil},
			{"class=" + strconv.FormatInt(a.ID, 10), without(newest, made[2], made[4])},
			{"class=" + strconv.FormatInt(b.ID, 10) + "&state=RESERVED", []string{made[4], made[2]}},
			{"course=" + strconv.FormatInt(e.bst.ID, 10), newest},
			{"course=" + strconv.FormatInt(e.fa.ID, 10), nil},
			{"createdFrom=" + today, newest},
			{"createdFrom=" + tomorrow, nil},
			{"createdTo=" + today, newest},
			{"createdTo=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), nil},
			{"createdFrom=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)) + "&createdTo=" + tomorrow, newest},
			{"limit=2", newest[:2]},
		} {
			t.Run(tc.query, func(t *testing.T) {
				e.t = t
				p, r := e.list(t, tc.query)
				if r.status != 200 {
					t.Fatalf("= %d %s", r.status, r.body)
				}
				if got := refs(p); !slices.Equal(got, tc.want) {
					t.Errorf("references %v, want %v", got, tc.want)
				}
				if r.header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q, want no-store (personal data)", r.header.Get("Cache-Control"))
				}
			})
		}

		t.Run("pages", func(t *testing.T) {
			e.t = t
			var got []string
			query, pages := "limit=2", 0
			for {
				p, r := e.list(t, query)
				if r.status != 200 {
					t.Fatalf("page %d: %d %s", pages, r.status, r.body)
				}
				got, pages = append(got, refs(p)...), pages+1
				if p.NextCursor == "" {
					break
				}
				if pages == 1 { // a booking made while paging is not on later pages
					e.book(b.ID)
				}
				query = "limit=2&cursor=" + url.QueryEscape(p.NextCursor)
			}
			if !slices.Equal(got, newest) || pages != 3 {
				t.Errorf("%d pages of %v, want 3 pages of %v", pages, got, newest)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			e.t = t
			for query, want := range map[string]string{
				"state=BOGUS":           `state: "BOGUS" is not one of PENDING, RESERVED`,
				"class=x":               `class: "x" is not a class id`,
				"course=-1":             `course: "-1" is not a course id`,
				"limit=0":               "limit: ",
				"limit=501":             "limit: must be between 1 and 500",
				"cursor=garbage":        "cursor: is not a cursor this API gave",
				"createdFrom=yesterday": `createdFrom: "yesterday" is neither a date`,
				"createdFrom=2026-02-01&createdTo=2026-01-01": "createdTo: must be after createdFrom",
				"class=x&limit=y": "; limit: ",
			} {
				_, r := e.list(t, query)
				if r.status != 400 || !strings.Contains(r.str(t, "errorMessage"), want) {
					t.Errorf("%s = %d %s, want 400 with %q", query, r.status, r.body, want)
				}
			}
			if r := e.do("GET", "/api/v1/bookings", "", ""); r.status != 401 {
				t.Errorf("without a token = %d %s", r.status, r.body)
			}
			if r := e.do("HEAD", "/api/v1/bookings", e.token, ""); r.status != 200 || len(r.body) != 0 {
				t.Errorf("HEAD = %d %q", r.status, r.body)
			}
		})
	})
}
