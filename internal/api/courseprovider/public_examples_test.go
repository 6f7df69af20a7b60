package courseprovider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store/storetest"
)

// seedProvider is a course provider's booking system written from the seed and the
// public pages alone, with not a line for this portal: its reserve URL answers the
// seed's example with its own numeric references (from 1004), it confirms each
// reservation with getBookingInformation "with the booking reference as parameter"
// (the only one it knows: its own), it reads the answers by the public example's
// spellings only (firstname, lastname, sucessful as string or boolean), and its
// cancel URL is the seed's example, cancelBooking?bookingReference=1234.
type seedProvider struct {
	*httptest.Server
	t        testing.TB
	api      string // the portal's API base, as the public examples write it
	username string
	password string

	mu        sync.Mutex
	next      int
	seats     map[string]string         // own reference -> externalCourseClassId; deleted when released
	confirmed map[string]map[string]any // own reference -> the getBookingInformation answer
	gaveUp    []string                  // references confirmed as gone: seat released
	retries   int                       // 404 + Retry-After answers seen while confirming
	wg        sync.WaitGroup
}

func newSeedProvider(t testing.TB, api, username, password string) *seedProvider {
	sp := &seedProvider{t: t, api: api, username: username, password: password, next: 1004,
		seats: map[string]string{}, confirmed: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /reserve", sp.reserve)
	mux.HandleFunc("GET /cancelBooking", sp.cancel)
	sp.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		sp.wg.Wait()
		sp.Server.Close()
	})
	return sp
}

// reserve holds a seat and answers exactly as the seed's example does; then it
// confirms, as the seed asks, allowing for the "small delay" it warns about.
func (sp *seedProvider) reserve(w http.ResponseWriter, r *http.Request) {
	class := r.URL.Query().Get("externalCourseClassId") // the one parameter the seed says is always passed
	sp.mu.Lock()
	ref := strconv.Itoa(sp.next)
	sp.next++
	sp.seats[ref] = class
	sp.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{
"successful"
:
"true"
,
"bookingReference"
:
"%s"
,
"errorMessage"
:
""
}`, ref)
	sp.wg.Add(1)
	go sp.confirm(ref)
}

// confirm calls getBookingInformation with its own reference until it answers: on
// 404 with Retry-After it waits and asks again (shortened from the header's second
// to keep the test quick); on any other failure it releases the seat.
func (sp *seedProvider) confirm(ref string) {
	defer sp.wg.Done()
	for try := 0; try < 50; try++ {
		res, body := sp.call("v1/booking/get/"+ref, nil)
		if res.StatusCode == http.StatusOK {
			var info map[string]any
			if err := json.Unmarshal(body, &info); err != nil {
				sp.t.Errorf("getBookingInformation %s: not JSON: %s", ref, body)
				return
			}
			sp.mu.Lock()
			sp.confirmed[ref] = info
			sp.mu.Unlock()
			return
		}
		if res.StatusCode == http.StatusNotFound && res.Header.Get("Retry-After") != "" {
			sp.mu.Lock()
			sp.retries++
			sp.mu.Unlock()
			time.Sleep(50 * time.Millisecond)
			continue
		}
		sp.t.Logf("confirming %s: HTTP %d %s; releasing the seat", ref, res.StatusCode, body)
		break
	}
	sp.mu.Lock()
	delete(sp.seats, ref)
	sp.gaveUp = append(sp.gaveUp, ref)
	sp.mu.Unlock()
}

// cancel is the seed's cancel URL: the booking reference is its own.
func (sp *seedProvider) cancel(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("bookingReference")
	sp.mu.Lock()
	_, held := sp.seats[ref]
	delete(sp.seats, ref)
	sp.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !held {
		fmt.Fprint(w, `{ "cancelled" : "false" , "errorMessage" : "No such booking" }`)
		return
	}
	fmt.Fprint(w, `{ "cancelled" : "true" , "errorMessage" : "" }`)
}

// call POSTs the documented parameters ("All parameters are passed as POST
// variables") with username and password.
func (sp *seedProvider) call(path string, form url.Values) (*http.Response, []byte) {
	v := url.Values{"username": {sp.username}, "password": {sp.password}}
	for k, vs := range form {
		v[k] = vs
	}
	res, err := http.PostForm(sp.api+path, v)
	if err != nil {
		sp.t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return res, buf.Bytes()
}

// statusOK reads a status message as the public examples show it: the flag spelt
// sucessful, a boolean (restore's example) or the string "true" (update's).
func statusOK(t testing.TB, what string, res *http.Response, body []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: HTTP %d, not JSON: %s", what, res.StatusCode, body)
	}
	if v := m["sucessful"]; v != true && v != "true" {
		t.Fatalf("%s: HTTP %d, sucessful = %v in %s", what, res.StatusCode, v, body)
	}
}

// upload sends a certificate as a multipart file, the way SPEC documents the method
// the public pages do not describe.
func (sp *seedProvider) upload(ref string, pdf []byte) (*http.Response, []byte) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("username", sp.username)
	_ = mw.WriteField("password", sp.password)
	_ = mw.WriteField("documentType", "COURSE_CERTIFICATE")
	fw, _ := mw.CreateFormFile("file", "certificate-"+ref+".pdf")
	_, _ = fw.Write(pdf)
	_ = mw.Close()
	res, err := http.Post(sp.api+"v1/booking/uploadDocumentation/"+ref, mw.FormDataContentType(), &body)
	if err != nil {
		sp.t.Fatalf("upload: %v", err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(res.Body)
	return res, out.Bytes()
}

// waitConfirmed waits until the provider has confirmed (or given up on) n bookings.
func (sp *seedProvider) waitConfirmed(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		sp.mu.Lock()
		done := len(sp.confirmed) + len(sp.gaveUp)
		sp.mu.Unlock()
		if done >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the provider confirmed %d of %d bookings in 10s", len(sp.confirmed), n)
}

// The "Must show": a provider that reads only the seed (its own numeric
// references, the example spellings, the /mintra/… base path, a Latin-1 form) books,
// confirms, reports NO_SHOW, uploads a certificate and cancels, on both databases.
func TestProviderWrittenFromThePublicDocs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		p := newPortal(t, dialect)
		now := settableClock(p)
		// The public examples' base path: only the host differs from the public service.
		sp := newSeedProvider(t, p.root+"/mintra/api/courseprovider/rest/", "acme", p.acme.Get("password"))

		// Portal staff register the provider's URLs as the provider sent them.
		reserve, cancel := sp.URL+"/reserve", sp.URL+"/cancelBooking"
		if _, err := p.catalog.ChangeProvider(ctx, "acme", catalog.ProviderChange{ReserveURL: &reserve, CancelURL: &cancel}); err != nil {
			t.Fatal(err)
		}
		// The provider publishes a class with the documented parameters.
		res, body := sp.call("v1/courses/get/BST/courseClasses/add", classForm("1234"))
		if res.StatusCode != 200 {
			t.Fatalf("addClass: %d %s", res.StatusCode, body)
		}
		// A booking system that speaks Latin-1 moves the class to Tromsø; its form says so.
		latin1 := "username=acme&password=" + url.QueryEscape(sp.password) + "&externalId=1234&location=Troms%F8"
		req, _ := http.NewRequest("POST", sp.api+"v1/courses/get/BST/courseClasses/update", strings.NewReader(latin1))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=ISO-8859-1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var updated map[string]any
		err = json.NewDecoder(res.Body).Decode(&updated)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || updated["location"] != "Tromsø" {
			t.Fatalf("updateClass in ISO-8859-1: HTTP %d, location %q, %v", res.StatusCode, updated["location"], err)
		}
		acme, err := p.db.ProviderByUsername(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		classes, err := p.catalog.Classes(ctx, acme, "BST")
		if err != nil || len(classes) != 1 {
			t.Fatalf("Classes = %v, %v", classes, err)
		}
		class := classes[0]
		if class.Location != "Tromsø" {
			t.Errorf("stored location = %q, want Tromsø", class.Location)
		}

		// Enrollers book three students.
		students := []string{"Kari", "Per", "Lise"}
		var portalRefs []string
		for _, name := range students {
			b, err := p.bookings.Book(ctx, booking.Request{ClassID: class.ID,
				Student:  booking.Person{FirstName: name, LastName: "Nordmann", Email: strings.ToLower(name) + "@example.no", Phone: "911 11 111"},
				Enroller: booking.Person{FirstName: "Ola", LastName: "Hansen", Email: "ola@example.no", Phone: "+47 22 22 22 22"},
				Company:  "Nordsjø AS"})
			if err != nil || b.State != booking.Reserved {
				t.Fatalf("Book(%s) = %s, %v", name, b.State, err)
			}
			portalRefs = append(portalRefs, b.Reference)
		}
		sp.waitConfirmed(t, len(students))
		sp.mu.Lock()
		if len(sp.gaveUp) > 0 {
			t.Fatalf("the provider gave up on %v and released their seats", sp.gaveUp)
		}
		for i, name := range students {
			ref := strconv.Itoa(1004 + i)
			info := sp.confirmed[ref]
			enroller, _ := info["enroller"].(map[string]any)
			if info["firstname"] != name || info["lastname"] != "Nordmann" || info["externalCourseClassId"] != "1234" ||
				info["phone"] != "4791111111" || info["enrollmentStatus"] != "NEW" || enroller["phone"] != "4722222222" {
				t.Errorf("booking %s as the provider read it: %v", ref, info)
			}
			if info["bookingReference"] != portalRefs[i] {
				t.Errorf("booking %s: bookingReference %v, want the portal's %s", ref, info["bookingReference"], portalRefs[i])
			}
		}
		t.Logf("confirmations retried after 404 + Retry-After: %d", sp.retries)
		sp.mu.Unlock()

		// Kari's enroller cancels: the provider's cancel URL gets its own reference.
		if b, err := p.bookings.Cancel(ctx, portalRefs[0]); err != nil || b.State != booking.Cancelled {
			t.Fatalf("Cancel = %s, %v", b.State, err)
		}
		// Per did not come.
		res, body = sp.call("v1/booking/update/1005", url.Values{"newStatus": {"NO_SHOW"}})
		statusOK(t, "NO_SHOW", res, body)
		// Lise completed; the provider reports it after the class and uploads her certificate.
		now.Store(time.Date(2030, 10, 3, 17, 0, 0, 0, time.UTC).UnixNano())
		res, body = sp.call("v1/booking/update/1006", url.Values{"newStatus": {"COMPLETED"}, "completionDate": {"2030-10-03"}})
		statusOK(t, "COMPLETED", res, body)
		pdf := []byte("%PDF-1.4\n% certificate for Lise Nordmann\n%%EOF\n")
		res, body = sp.upload("1006", pdf)
		statusOK(t, "uploadDocumentation", res, body)

		// What the portal recorded.
		want := []struct {
			state booking.State
			date  string
		}{{booking.Cancelled, ""}, {booking.NoShow, ""}, {booking.Completed, "2030-10-03"}}
		for i, ref := range portalRefs {
			b, err := p.bookings.Get(ctx, ref)
			if err != nil || b.State != want[i].state || b.CompletionDate != want[i].date || b.ProviderReference != strconv.Itoa(1004+i) {
				t.Errorf("booking of %s: %s %q (provider's %s), %v; want %s %q", students[i], b.State, b.CompletionDate, b.ProviderReference, err, want[i].state, want[i].date)
			}
		}
		lise, _ := p.bookings.Get(ctx, portalRefs[2])
		docs, err := p.bookings.Documents(ctx, lise)
		if err != nil || len(docs) != 1 || docs[0].Type != booking.CourseCertificate || docs[0].ContentType != "application/pdf" {
			t.Errorf("Lise's documents = %+v, %v", docs, err)
		}
		// What the provider's own system holds: Kari's seat released, the others kept.
		sp.mu.Lock()
		if _, held := sp.seats["1004"]; held || len(sp.seats) != 2 {
			t.Errorf("provider's seats = %v, want 1005 and 1006", sp.seats)
		}
		sp.mu.Unlock()
	})
}
