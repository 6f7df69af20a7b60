package conformance

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Portal is the kit's stand-in for the portal's side of getBookingInformation
// (SPEC §2, §4): a loopback API v1 that answers v1/booking/get/{reference} for
// the bookings the provider suite makes, so a provider's confirmation step can
// succeed, and records which bookings the provider asked about.
//
// It answers like the portal: 404 with Retry-After: 1 while the reserve call
// for the booking is in flight (and for an unknown reference while any reserve
// call is in flight); 410 for a booking the provider refused; 200 with the
// documented fields otherwise, looked up by the portal's reference or the
// provider's. Every other API v1 path gets 404 with an errorMessage.
type Portal struct {
	srv      *http.Server
	url      string
	username string
	password string
	done     chan struct{}

	mu       sync.Mutex
	bookings map[string]*standInBooking // by the portal's reference
	byRef    map[string]*standInBooking // by the provider's reference
	inFlight int
	lookups  int
	refused  int // lookups refused for wrong credentials
}

// standInBooking is one booking the provider suite made, as the stand-in knows it.
type standInBooking struct {
	ref, providerRef  string
	class, course     string
	state             string // PENDING, RESERVED, REJECTED, CANCELLED
	confirmed         bool   // the provider read it with a 200 answer
	confirmedByWhich  string // "the portal's reference" or "its own reference"
	student, enroller person
	company           string
}

type person struct {
	FirstName string `json:"firstName" xml:"firstName"`
	LastName  string `json:"lastName" xml:"lastName"`
	Email     string `json:"email" xml:"email"`
	Phone     string `json:"phone" xml:"phone"`
}

// StartPortal starts the stand-in on addr ("127.0.0.1:0" for an ephemeral
// loopback port). When username is not empty, calls must carry that username
// and password (as parameters or HTTP Basic); otherwise any credentials do.
func StartPortal(addr, username, password string) (*Portal, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stand-in portal: %w", err)
	}
	p := &Portal{
		url:      "http://" + ln.Addr().String() + "/api/courseprovider/rest/",
		username: username, password: password,
		done:     make(chan struct{}),
		bookings: map[string]*standInBooking{}, byRef: map[string]*standInBooking{},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln) // ErrServerClosed after Close
	}()
	return p, nil
}

// URL is the stand-in's API base, the same shape as the portal's
// (http://HOST:PORT/api/courseprovider/rest/); /mintra/api/courseprovider/rest/
// is served as well.
func (p *Portal) URL() string { return p.url }

// Close stops the stand-in, waiting at most a few seconds for calls in progress.
func (p *Portal) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	<-p.done
	return err
}

// reserving records that a reserve call for the booking is about to be made.
func (p *Portal) reserving(b *standInBooking) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight++
	if _, repeat := p.bookings[b.ref]; repeat {
		return // a repeated call: the booking the first call made stands
	}
	b.state = "PENDING"
	p.bookings[b.ref] = b
}

// reserved records the provider's answer: providerRef is empty when the
// provider refused or gave no usable answer.
func (p *Portal) reserved(ref, providerRef string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight--
	b := p.bookings[ref]
	if providerRef == "" {
		if b.providerRef == "" { // a repeat that failed leaves a made booking alone
			b.state = "REJECTED"
		}
		return
	}
	if b.providerRef == "" { // a repeat that took another seat keeps the first reference
		b.state, b.providerRef = "RESERVED", providerRef
	}
	p.byRef[providerRef] = b
}

// cancelled records a reservation the provider cancelled.
func (p *Portal) cancelled(ref string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.bookings[ref]; b != nil {
		b.state = "CANCELLED"
	}
}

// confirmation says whether the provider read the booking ref with a 200 answer.
func (p *Portal) confirmation(ref string) (confirmed bool, how string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.bookings[ref]; b != nil {
		return b.confirmed, b.confirmedByWhich
	}
	return false, ""
}

// calls returns how many getBookingInformation calls arrived, and how many
// of them were refused for their credentials.
func (p *Portal) calls() (lookups, refused int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lookups, p.refused
}

// ServeHTTP answers API v1 calls. Paths are cleaned without redirects, as the
// portal does.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, POST")
		p.write(w, r, http.StatusMethodNotAllowed, errorBody{Message: "use GET or POST"})
		return
	}
	clean := path.Clean("/" + r.URL.Path)
	rest, ok := strings.CutPrefix(clean, "/mintra")
	if !ok {
		rest = clean
	}
	rest, ok = strings.CutPrefix(rest, "/api/courseprovider/rest/v1/booking/get/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		p.write(w, r, http.StatusNotFound, errorBody{Message: "the conformance kit's stand-in portal answers only v1/booking/get/{bookingReference}"})
		return
	}
	user, password := r.FormValue("username"), r.FormValue("password")
	if user == "" {
		user, password, _ = r.BasicAuth()
	}
	p.mu.Lock()
	p.lookups++
	if p.username != "" && !(equal(user, p.username) && equal(password, p.password)) {
		p.refused++
		p.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="tportal"`)
		p.write(w, r, http.StatusUnauthorized, errorBody{Message: "wrong username or password"})
		return
	}
	b := p.bookings[rest]
	how := "the portal's reference"
	if b == nil {
		b, how = p.byRef[rest], "its own reference"
	}
	var (
		status = http.StatusOK
		body   any
	)
	switch {
	case b == nil && p.inFlight > 0, b != nil && b.state == "PENDING":
		w.Header().Set("Retry-After", "1")
		status, body = http.StatusNotFound, errorBody{Message: fmt.Sprintf("booking %s is not confirmed yet; retry in a second", rest)}
	case b == nil:
		status, body = http.StatusNotFound, errorBody{Message: fmt.Sprintf("no booking %s", rest)}
	case b.state == "REJECTED":
		status, body = http.StatusGone, errorBody{Message: fmt.Sprintf("booking %s was not made (REJECTED)", rest)}
	default:
		if !b.confirmed {
			b.confirmed, b.confirmedByWhich = true, how
		}
		body = b.answer()
	}
	p.mu.Unlock()
	p.write(w, r, status, body)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// bookingAnswer is getBookingInformation's answer with the fields of SPEC §4.
type bookingAnswer struct {
	XMLName                  xml.Name `json:"-" xml:"booking"`
	BookingReference         string   `json:"bookingReference" xml:"bookingReference"`
	ProviderBookingReference string   `json:"providerBookingReference" xml:"providerBookingReference"`
	ExternalCourseClassID    string   `json:"externalCourseClassId" xml:"externalCourseClassId"`
	ExternalCourseID         string   `json:"externalCourseId,omitempty" xml:"externalCourseId,omitempty"`
	FirstName                string   `json:"firstName" xml:"firstName"`
	LastName                 string   `json:"lastName" xml:"lastName"`
	FirstNameLower           string   `json:"firstname" xml:"firstname"` // the public example's spelling
	LastNameLower            string   `json:"lastname" xml:"lastname"`
	Email                    string   `json:"email" xml:"email"`
	Phone                    string   `json:"phone" xml:"phone"`
	BirthDate                string   `json:"birthDate" xml:"birthDate"`
	Enroller                 person   `json:"enroller" xml:"enroller"`
	Company                  string   `json:"company" xml:"company"`
	EnrollmentStatus         string   `json:"enrollmentStatus" xml:"enrollmentStatus"`
	CommentOnEnrollment      string   `json:"commentOnEnrollment" xml:"commentOnEnrollment"`
	PurchaseOrderNumber      string   `json:"purchaseOrderNumber" xml:"purchaseOrderNumber"`
}

func (b *standInBooking) answer() bookingAnswer {
	status := b.state
	if status == "RESERVED" {
		status = "NEW"
	}
	return bookingAnswer{
		BookingReference: b.ref, ProviderBookingReference: b.providerRef,
		ExternalCourseClassID: b.class, ExternalCourseID: b.course,
		FirstName: b.student.FirstName, LastName: b.student.LastName,
		FirstNameLower: b.student.FirstName, LastNameLower: b.student.LastName,
		Email: b.student.Email, Phone: b.student.Phone, BirthDate: testBirthDate,
		Enroller: b.enroller, Company: b.company, EnrollmentStatus: status,
		CommentOnEnrollment: "Booked by the tportal conformance kit; it cancels this booking itself.",
		PurchaseOrderNumber: "CONFORMANCE",
	}
}

type errorBody struct {
	XMLName xml.Name `json:"-" xml:"error"`
	Message string   `json:"errorMessage" xml:"errorMessage"`
}

// write answers in JSON, or XML when Accept asks for it.
func (p *Portal) write(w http.ResponseWriter, r *http.Request, status int, body any) {
	accept := r.Header.Get("Accept")
	var (
		data []byte
		err  error
	)
	if strings.Contains(accept, "application/xml") || strings.Contains(accept, "text/xml") {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		data, err = xml.Marshal(body)
		data = append([]byte(xml.Header), data...)
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		data, err = json.Marshal(body)
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}
