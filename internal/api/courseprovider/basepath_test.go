package courseprovider_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/store/storetest"
)

// The API answers identically under the public service's base path, and unclean paths
// are served, never redirected (clients do not follow a redirect on POST).
func TestPublicBasePathAndUncleanPaths(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)
		postTo := func(path string, form url.Values) response {
			t.Helper()
			v := url.Values{}
			for k, vs := range p.acme {
				v[k] = vs
			}
			for k, vs := range form {
				v[k] = vs
			}
			req, _ := http.NewRequest("POST", p.root+path, strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			return response{status: res.StatusCode, header: res.Header, body: body}
		}
		for _, tt := range []struct {
			name, path string
			form       url.Values
			status     int
			want       string
		}{
			{"add under /mintra", "/mintra/api/courseprovider/rest/v1/courses/get/BST/courseClasses/add", classForm("M1"), 200, `"externalId":"M1"`},
			{"list under /mintra", "/mintra/api/courseprovider/rest/v1/courses/get/BST/courseClasses", nil, 200, `"externalId":"M1"`},
			{"list under the portal's base", "/api/courseprovider/rest/v1/courses/get/BST/courseClasses", nil, 200, `"externalId":"M1"`},
			{"doubled slash, POST", "/mintra/api/courseprovider/rest/v1//courses/get/BST/courseClasses/add", classForm("M2"), 200, `"externalId":"M2"`},
			{"leading doubled slash", "//api/courseprovider/rest/v1/courses/get", nil, 200, `"externalCourseId":"BST"`},
			{"dot segment", "/api/courseprovider/rest/v1/./courses/get/BST/courseClasses/cancel/M2", nil, 200, `"successful":true`},
			{"base without slash", "/mintra/api/courseprovider/rest", nil, 404, "no API method"},
			{"unknown method under /mintra", "/mintra/api/courseprovider/rest/v2/nothing", nil, 404, "no API method"},
		} {
			r := postTo(tt.path, tt.form)
			if r.status != tt.status || !strings.Contains(string(r.body), tt.want) {
				t.Errorf("%s: POST %s = %d %s, want %d with %s", tt.name, tt.path, r.status, r.body, tt.status, tt.want)
			}
		}
	})
}

// noRedirects is a client that shows a redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
