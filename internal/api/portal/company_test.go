package portal_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestCompanyTokens: a company's token books for its company and sees, cancels and
// downloads only its company's bookings; a portal-wide token sees them all.
func TestCompanyTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		companyToken := func(name string) (string, int64) {
			c := account.Company{Name: name, CreatedAt: time.Now()}
			a := account.Account{Email: name + "@example.com", FirstName: "A", LastName: "B", PasswordHash: "x", Role: account.Enroller, CreatedAt: time.Now()}
			if err := e.db.CreateCompanyAccount(ctx, &c, &a); err != nil {
				t.Fatal(err)
			}
			token, hash := auth.NewToken()
			if _, err := e.db.CreateCompanyToken(ctx, name+" intranet", hash, nil, c.ID); err != nil {
				t.Fatal(err)
			}
			return token, c.ID
		}
		acme, acmeID := companyToken("acme")
		other, _ := companyToken("other")
		if _, err := e.db.CreateCompanyToken(ctx, "nobody's", "f00", nil, 99999); err == nil {
			t.Error("a token for an unknown company was made")
		}

		class := e.addClass(classSpec{ext: "SCOPE", seats: 5})
		r := e.do("POST", "/api/v1/bookings", acme, bookBody(class.ID))
		if r.status != http.StatusCreated {
			t.Fatalf("book with a company token = %d %s", r.status, r.body)
		}
		ref := r.str(t, "bookingReference")
		b, err := e.bookings.Get(ctx, ref)
		if err != nil || b.CompanyID != acmeID {
			t.Fatalf("the booking's company = %d (%v), want %d", b.CompanyID, err, acmeID)
		}
		portalWide := e.book(class.ID).str(t, "bookingReference") // e.token has no company

		for _, tc := range []struct {
			name, method, path, token string
			want                      int
		}{
			{"own booking", "GET", "/api/v1/bookings/" + ref, acme, http.StatusOK},
			{"another company's booking", "GET", "/api/v1/bookings/" + ref, other, http.StatusNotFound},
			{"a portal-wide booking, to a company", "GET", "/api/v1/bookings/" + portalWide, acme, http.StatusNotFound},
			{"any booking, to a portal-wide token", "GET", "/api/v1/bookings/" + ref, e.token, http.StatusOK},
			{"another company's documents", "GET", "/api/v1/bookings/" + ref + "/documents/1", other, http.StatusNotFound},
			{"another company's cancel", "POST", "/api/v1/bookings/" + ref + "/cancel", other, http.StatusNotFound},
			{"own cancel", "POST", "/api/v1/bookings/" + ref + "/cancel", acme, http.StatusOK},
		} {
			r := e.do(tc.method, tc.path, tc.token, "")
			if r.status != tc.want {
				t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.want)
			}
			if ref, _ := r.object(t)["bookingReference"].(string); tc.want == http.StatusNotFound && ref != "" {
				t.Errorf("%s: the answer shows the booking: %s", tc.name, r.body)
			}
		}
		listed := func(token string) map[string]bool {
			var page struct {
				Bookings []struct {
					BookingReference string `json:"bookingReference"`
				} `json:"bookings"`
			}
			r := e.do("GET", "/api/v1/bookings", token, "")
			if err := json.Unmarshal(r.body, &page); err != nil || r.status != http.StatusOK {
				t.Fatalf("GET /api/v1/bookings = %d %s", r.status, r.body)
			}
			refs := map[string]bool{}
			for _, b := range page.Bookings {
				refs[b.BookingReference] = true
			}
			return refs
		}
		if got := listed(acme); len(got) != 1 || !got[ref] {
			t.Errorf("the company's list: %v, want only %s", got, ref)
		}
		if got := listed(other); len(got) != 0 {
			t.Errorf("another company's list: %v, want none", got)
		}
		if got := listed(e.token); !got[ref] || !got[portalWide] {
			t.Errorf("the portal-wide list: %v, want both bookings", got)
		}
		unknown := e.do("GET", "/api/v1/bookings/no-such-ref", other, "")
		foreign := e.do("GET", "/api/v1/bookings/"+ref, other, "")
		if unknown.str(t, "errorMessage") == "" ||
			foreign.str(t, "errorMessage") != "no booking with reference \""+ref+"\"" {
			t.Errorf("another company's booking is told apart from an unknown one: %s / %s", foreign.body, unknown.body)
		}
		if n := len(e.provider.calls(true, "trainingportalBookingReference", ref)); n != 1 {
			t.Errorf("cancel calls for the booking: %d, want 1 (the other company's cancel must not call)", n)
		}
	})
}
