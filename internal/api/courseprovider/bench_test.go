package courseprovider_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// Benchmarks of the catalogue API through the whole HTTP stack on SQLite: a real
// server, real client, keep-alive connections, the parallelism of GOMAXPROCS.
// `BenchmarkCeiling` is a bare net/http handler that parses the same form and writes
// the same JSON, with no authentication or storage: what the HTTP stack alone costs.
//
//	go test -run '^$' -bench . -benchmem ./internal/api/courseprovider/

func benchPortal(b *testing.B) *portal { return newPortal(b, "sqlite") }

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func postForm(b *testing.B, c *http.Client, u string, v url.Values) {
	res, err := c.PostForm(u, v)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Errorf("%s: status %d", u, res.StatusCode)
	}
}

func withCreds(creds, form url.Values) url.Values {
	v := url.Values{}
	for k, vs := range creds {
		v[k] = vs
	}
	for k, vs := range form {
		v[k] = vs
	}
	return v
}

func BenchmarkAddClass(b *testing.B) {
	p := benchPortal(b)
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := &http.Client{}
		for pb.Next() {
			postForm(b, c, p.base+"/BST/courseClasses/add", withCreds(p.acme, classForm("B"+strconv.FormatInt(n.Add(1), 10))))
		}
	})
	reportRate(b)
}

func BenchmarkUpdateClassSeats(b *testing.B) {
	p := benchPortal(b)
	const classes = 50
	for i := range classes {
		postForm(b, http.DefaultClient, p.base+"/BST/courseClasses/add", withCreds(p.acme, classForm("U"+strconv.Itoa(i))))
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := &http.Client{}
		for pb.Next() {
			i := n.Add(1)
			postForm(b, c, p.base+"/BST/courseClasses/update", withCreds(p.acme, url.Values{
				"externalId": {"U" + strconv.FormatInt(i%classes, 10)}, "availableSeats": {strconv.FormatInt(i%40, 10)},
			}))
		}
	})
	reportRate(b)
}

func BenchmarkGetCourseClasses200(b *testing.B) {
	p := benchPortal(b)
	for i := range 200 {
		postForm(b, http.DefaultClient, p.base+"/BST/courseClasses/add", withCreds(p.acme, classForm("G"+strconv.Itoa(i))))
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := &http.Client{}
		for pb.Next() {
			postForm(b, c, p.base+"/BST/courseClasses", p.acme)
		}
	})
	reportRate(b)
}

// ceilingClass has the shape of the API's class JSON.
type ceilingClass struct {
	ExternalID           string `json:"externalId"`
	CourseExternalID     string `json:"courseExternalId"`
	Cancelled            bool   `json:"cancelled"`
	Location             string `json:"location"`
	AvailableSeats       int    `json:"availableSeats"`
	EnrollmentDeadline   string `json:"enrollmentDeadline"`
	CancellationDeadline string `json:"cancellationDeadline"`
	StartDate            string `json:"startDate"`
	StartTime            string `json:"startTime"`
	EndDate              string `json:"endDate"`
	EndTime              string `json:"endTime"`
	TimeZone             string `json:"timeZone"`
	Address              struct {
		AddressLine1, AddressLine2, City, ZipCode, Country string
	} `json:"address"`
	Price struct {
		Currency string      `json:"currency"`
		Amount   json.Number `json:"amount"`
	} `json:"price"`
	SendScheduleInfoToParticipants bool `json:"sendScheduleInfoToParticipants"`
}

// BenchmarkCeiling is the bare net/http ceiling for the addClass benchmark.
func BenchmarkCeiling(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var c ceilingClass
		c.ExternalID, c.CourseExternalID, c.Location = r.Form.Get("externalId"), r.PathValue("x"), r.Form.Get("location")
		c.AvailableSeats, _ = strconv.Atoi(r.Form.Get("availableSeats"))
		c.EnrollmentDeadline, c.CancellationDeadline = r.Form.Get("enrollmentDeadline"), r.Form.Get("cancellationDeadline")
		c.StartDate, c.StartTime, c.EndDate, c.EndTime = r.Form.Get("startDate"), r.Form.Get("startTime"), r.Form.Get("endDate"), r.Form.Get("endTime")
		c.Address.AddressLine1, c.Address.City = r.Form.Get("address.addressLine1"), r.Form.Get("address.city")
		c.Address.ZipCode, c.Address.Country = r.Form.Get("address.zipCode"), r.Form.Get("address.country")
		c.Price.Currency, c.Price.Amount = r.Form.Get("price.currency"), json.Number(strings.Replace(r.Form.Get("price.amount"), ",", ".", 1))
		c.TimeZone, c.SendScheduleInfoToParticipants = "Europe/Oslo", true
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(c)
	}))
	defer srv.Close()
	creds := url.Values{"username": {"acme"}, "password": {"some-password-here"}}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := &http.Client{}
		for pb.Next() {
			postForm(b, c, srv.URL+"/add", withCreds(creds, classForm("C"+strconv.FormatInt(n.Add(1), 10))))
		}
	})
	reportRate(b)
}
