package courseprovider_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/store/storetest"
)

// Credentials with bytes no username has are a wrong login: 401, never a 500, and
// counted by the login rate limit like any other.
func TestBadBytesInCredentialsCountAsFailedLogins(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)
		for i, user := range []string{"x\x00", "acme\xff", "a\x01b", "x\x00", "acme\xff", "a\x01b", "x\x00", "acme\xff", "a\x01b", "\x00"} {
			r := p.post("", url.Values{"username": {user}, "password": {"whatever"}}, nil)
			expect(t, "login "+strings.ToValidUTF8(user, "?"), r, 401)
			if i == 0 && r.errorMessage(t) != "wrong username or password" {
				t.Errorf("message %q", r.errorMessage(t))
			}
		}
		// The eleventh attempt, with the right password, is slowed down.
		expect(t, "right password after 10 failures", p.post("", p.acme, nil), 429)
	})
}

// HEAD on a method that changes data changes nothing, with the credentials and every
// parameter that a GET would act on.
func TestHeadNeverChangesData(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)
		expect(t, "add", p.post("/BST/courseClasses/add", p.acme, classForm("T011")), 200)
		head := func(path string, q url.Values) response {
			for k, vs := range p.acme {
				q[k] = vs
			}
			req, _ := http.NewRequest("HEAD", p.base+path+"?"+q.Encode(), nil)
			return p.do(req)
		}
		for _, tt := range []struct {
			path string
			q    url.Values
		}{
			{"/BST/courseClasses/cancel/T011", url.Values{}},
			{"/BST/courseClasses/add", classForm("H1")},
			{"/BST/courseClasses/update", url.Values{"externalId": {"T011"}, "availableSeats": {"0"}}},
		} {
			r := head(tt.path, tt.q)
			if r.status != 405 || r.header.Get("Allow") != "GET, POST" || len(r.body) != 0 {
				t.Errorf("HEAD %s = %d, Allow %q, body %q", tt.path, r.status, r.header.Get("Allow"), r.body)
			}
		}
		r := head("/BST/courseClasses", url.Values{})
		if r.status != 200 || len(r.body) != 0 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("HEAD getCourseClasses = %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
		}
		r = p.post("/BST/courseClasses", p.acme, nil)
		if !strings.Contains(string(r.body), `"externalId":"T011","courseExternalId":"BST","cancelled":false,"location":"Oslo","availableSeats":12`) ||
			strings.Contains(string(r.body), "H1") || strings.Contains(string(r.body), `"cancelled":true`) {
			t.Errorf("after the HEADs the classes are %s", r.body)
		}
	})
}
