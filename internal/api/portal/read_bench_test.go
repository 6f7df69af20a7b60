package portal_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/api/wire"
	"github.com/tportal/tportal/internal/store/storetest"
)

// ceilingClassDTO has the shape of GET /api/v1/classes's items.
type ceilingClassDTO struct {
	ID       int64 `json:"id"`
	CourseID int64 `json:"courseId"`
	wire.Class
}

// BenchmarkListClasses measures GET /api/v1/classes?course=… (a course with 200
// classes) on each database beside a ceiling in the same run: a bare net/http handler
// that reads the bearer token and the query and encodes the same answer from Go
// structs, with no token check and no storage.
//
//	TPORTAL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench ListClasses -benchtime 2s ./internal/api/portal/
func BenchmarkListClasses(b *testing.B) {
	const n = 200
	var body []ceilingClassDTO // the answer, taken from the first database's portal
	type target struct{ url, token string }
	targets := map[string]target{}
	for _, dialect := range storetest.Dialects() {
		e := newEnv(b, dialect)
		for i := range n {
			e.addClass(classSpec{ext: "L" + strconv.Itoa(i), seats: 10, start: 60 + i%30})
		}
		u := e.url + "/api/v1/classes?course=" + strconv.FormatInt(e.bst.ID, 10)
		targets[dialect] = target{u, e.token}
		if body == nil {
			res := getList(b, &http.Client{}, u, e.token)
			if err := json.Unmarshal(res, &body); err != nil || len(body) != n {
				b.Fatalf("answer of %d classes, err %v", len(body), err)
			}
		}
	}
	ceiling := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || r.URL.Query().Get("course") == "" {
			http.Error(w, "no token", 401)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_ = json.NewEncoder(w).Encode(body)
	}))
	defer ceiling.Close()
	run := func(name string, t target) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := &http.Client{}
				for pb.Next() {
					getList(b, c, t.url, t.token)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
	run("ceiling", target{ceiling.URL + "/api/v1/classes?course=1", "x"})
	for _, dialect := range storetest.Dialects() {
		run(dialect, targets[dialect])
	}
}

// getList GETs u with the bearer token and returns the body of a 200.
func getList(b *testing.B, c *http.Client, u, token string) []byte {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		b.Error(err)
		return nil
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		b.Errorf("status %d: %s", res.StatusCode, out)
	}
	return out
}
