// Package httpapi serves the provider gateway's reserve and cancel URLs, the two URLs
// the portal calls (SPEC §3), on top of any gateway.BookingSystem. It reads the
// portal's parameters, checks the caller's address and signature when configured, and
// answers JSON or XML with the documented fields.
//
// A refusal (unknown class, sold out, enrollment closed, class cancelled, past the
// cancellation deadline) is an answer, not a failure: status 200 with
// successful:false (cancelled:false) and a message for the enroller. Other statuses
// mean the call itself was wrong: 400 a missing parameter, 403 an address outside the
// filter, 401 a missing, wrong or stale signature, 405 a method other than GET or
// POST, 500 an internal error (logged; the answer says only that).
package httpapi

import (
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/munnerz/goautoneg"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/tpclient/signing"
)

// The paths the gateway serves; the URLs to register with the portal end in them.
const (
	ReservePath = "/reserve"
	CancelPath  = "/cancel"
)

// maxBody bounds a POSTed form; the portal sends GET with a short query.
const maxBody = 64 << 10

// Format is an answer format.
type Format string

// The answer formats.
const (
	JSON Format = "json"
	XML  Format = "xml"
)

// Options configure the URLs. The zero value answers JSON unless the caller's Accept
// prefers XML, and checks neither address nor signature.
type Options struct {
	// Format answers a caller whose Accept header does not choose (absent, */*, or
	// JSON and XML equally wanted). Default JSON.
	Format Format
	// Filter, when not nil, admits only callers whose address it allows.
	Filter *IPFilter
	// Secret, when set, makes every call carry a valid signature (tpclient/signing).
	Secret []byte
	// MaxSkew is how far a signature's timestamp may be from now; default
	// signing.DefaultMaxSkew.
	MaxSkew time.Duration
	// PathPrefix is the path before ReservePath and CancelPath in the URLs the portal
	// calls, when a reverse proxy serves the gateway below one (e.g. "/tportal" for
	// https://provider.example/tportal/reserve). The URLs are then served with and
	// without it, and a signature is checked against the path the portal signed,
	// whether or not the proxy stripped the prefix.
	PathPrefix string
	// Now is the clock for signatures; time.Now when nil.
	Now func() time.Time
	// Logger logs each call (never personal data); slog.Default when nil.
	Logger *slog.Logger
}

// API serves the reserve and cancel URLs.
type API struct {
	sys gateway.BookingSystem
	o   Options
}

// New returns the URLs of sys.
func New(sys gateway.BookingSystem, o Options) *API {
	if o.Format == "" {
		o.Format = JSON
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.PathPrefix = strings.TrimRight(o.PathPrefix, "/")
	if o.PathPrefix != "" && !strings.HasPrefix(o.PathPrefix, "/") {
		o.PathPrefix = "/" + o.PathPrefix
	}
	return &API{sys: sys, o: o}
}

// Register adds the reserve and cancel URLs to mux.
func (a *API) Register(mux *http.ServeMux) {
	reserve, cancel := a.guard(a.reserve, reservation{}), a.guard(a.cancel, cancellation{})
	mux.Handle(ReservePath, reserve)
	mux.Handle(CancelPath, cancel)
	if a.o.PathPrefix != "" {
		mux.Handle(a.o.PathPrefix+ReservePath, reserve)
		mux.Handle(a.o.PathPrefix+CancelPath, cancel)
	}
}

// reservation is the reserve answer.
type reservation struct {
	XMLName          xml.Name `json:"-" xml:"reservation"`
	Successful       bool     `json:"successful" xml:"successful"`
	BookingReference string   `json:"bookingReference" xml:"bookingReference"`
	ErrorMessage     string   `json:"errorMessage" xml:"errorMessage"`
}

// cancellation is the cancel answer.
type cancellation struct {
	XMLName      xml.Name `json:"-" xml:"cancellation"`
	Cancelled    bool     `json:"cancelled" xml:"cancelled"`
	ErrorMessage string   `json:"errorMessage" xml:"errorMessage"`
}

// handler serves one URL: it returns the answer for a successful call and for a
// refusal, or an error for a call it cannot answer (with the status from errs).
type handler func(r *http.Request) (answer any, err error)

// refused returns the answer of the kind of empty (a reservation or a cancellation)
// that refuses with message.
func refused(empty any, message string) any {
	if _, ok := empty.(cancellation); ok {
		return cancellation{ErrorMessage: message}
	}
	return reservation{ErrorMessage: message}
}

// signedPath is the path the portal signed: the request's, with PathPrefix put back
// when a proxy took it off.
func (a *API) signedPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if a.o.PathPrefix != "" && !strings.HasPrefix(p, a.o.PathPrefix+"/") {
		p = a.o.PathPrefix + p
	}
	return p
}

// guard checks the method, the address and the signature, then runs h and writes
// its answer; empty is the kind of answer h gives.
func (a *API) guard(h handler, empty any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			// Not even HEAD: a reserve call changes data.
			w.Header().Set("Allow", "GET, POST")
			a.write(w, r, http.StatusMethodNotAllowed, refused(empty, "method "+r.Method+" is not allowed; use GET"))
			return
		}
		if a.o.Filter != nil {
			if addr, ok := a.o.Filter.Allows(r); !ok {
				a.o.Logger.WarnContext(r.Context(), "gateway call refused by the IP filter", "path", r.URL.Path, "client", addr)
				a.write(w, r, http.StatusForbidden, refused(empty, "calls from "+addr+" are not allowed"))
				return
			}
		}
		if len(a.o.Secret) > 0 {
			err := signing.Verify(a.o.Secret, r.Method, a.signedPath(r), r.URL.RawQuery,
				r.Header.Get(signing.TimestampHeader), r.Header.Get(signing.SignatureHeader), a.o.Now(), a.o.MaxSkew)
			if err != nil {
				a.o.Logger.WarnContext(r.Context(), "gateway call with a bad signature", "path", r.URL.Path, "err", err)
				a.write(w, r, http.StatusUnauthorized, refused(empty, err.Error()))
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			a.write(w, r, http.StatusBadRequest, refused(empty, "the parameters cannot be read: "+err.Error()))
			return
		}
		answer, err := h(r)
		status := http.StatusOK
		if err != nil {
			status = errs.HTTPStatus(err)
			if status == http.StatusInternalServerError {
				a.o.Logger.ErrorContext(r.Context(), "gateway call failed", "path", r.URL.Path, "err", err)
			}
			answer = refused(empty, errs.MessageOf(err))
		}
		a.write(w, r, status, answer)
	})
}

// param reads a parameter, trimmed.
func param(r *http.Request, name string) string { return strings.TrimSpace(r.Form.Get(name)) }

// The marks of the portal's dry call, its "Test the URL" button: the header or the
// query parameter with the value testMarker. They are the portal's
// providercall.TestHeader, TestParam and TestMarker, written out because the
// gateway imports no portal package.
const (
	testHeader = "X-Tportal-Test"
	testParam  = "tportalTest"
	testMarker = "url-check"
)

// testAnswer is the answer to a dry call: readable, and not a reservation.
const testAnswer = "URL test received: the call reached this gateway (and its signature, if any, was valid); nothing was reserved"

func (a *API) reserve(r *http.Request) (any, error) {
	if r.Header.Get(testHeader) == testMarker || param(r, testParam) == testMarker {
		a.o.Logger.InfoContext(r.Context(), "URL test answered; nothing reserved")
		return reservation{ErrorMessage: testAnswer}, nil
	}
	req := gateway.ReserveRequest{
		CourseID:        param(r, "externalCourseId"),
		ClassID:         param(r, "externalCourseClassId"),
		PortalReference: param(r, "trainingportalBookingReference"),
		Student: gateway.Person{
			FirstName: param(r, "studentFirstName"), LastName: param(r, "studentLastName"),
			Email: param(r, "studentEmailAddress"), Phone: param(r, "studentPhoneNumber"),
			BirthDate: param(r, "studentBirthDate"),
		},
		Enroller: gateway.Person{
			FirstName: param(r, "enrollerFirstName"), LastName: param(r, "enrollerLastName"),
			Email: param(r, "enrollerEmailAddress"), Phone: param(r, "enrollerPhoneNumber"),
		},
		Company: param(r, "company"),
	}
	if req.PortalReference == "" {
		// A portal that predates trainingportalBookingReference sent its reference as
		// bookingReference.
		req.PortalReference = param(r, "bookingReference")
	}
	b, err := a.sys.Reserve(r.Context(), req)
	log := a.o.Logger.With("course", req.CourseID, "class", req.ClassID, "trainingportalBookingReference", req.PortalReference)
	switch {
	case err == nil:
		// A repeated call is answered with the booking made the first time; its
		// creation time tells the two apart in the log.
		log.InfoContext(r.Context(), "reservation answered", "reference", b.Reference, "status", b.Status, "booked_at", b.CreatedAt)
		return reservation{Successful: true, BookingReference: b.Reference}, nil
	case refusal(err):
		log.InfoContext(r.Context(), "reservation refused", "reason", errs.MessageOf(err))
		return reservation{BookingReference: b.Reference, ErrorMessage: errs.MessageOf(err)}, nil
	}
	return nil, err
}

func (a *API) cancel(r *http.Request) (any, error) {
	req := gateway.CancelRequest{
		Reference:       param(r, "bookingReference"),
		PortalReference: param(r, "trainingportalBookingReference"),
	}
	b, err := a.sys.Cancel(r.Context(), req)
	log := a.o.Logger.With("reference", req.Reference, "trainingportalBookingReference", req.PortalReference)
	switch {
	case err == nil:
		log.InfoContext(r.Context(), "booking cancelled", "status", b.Status)
		return cancellation{Cancelled: true}, nil
	case refusal(err):
		log.InfoContext(r.Context(), "cancellation refused", "reason", errs.MessageOf(err))
		return cancellation{ErrorMessage: errs.MessageOf(err)}, nil
	}
	return nil, err
}

// refusal reports whether err is the booking system saying no (answered 200 with the
// flag false) rather than a call that was wrong or failed.
func refusal(err error) bool {
	switch errs.CodeOf(err) {
	case errs.NotFound, errs.Conflict, errs.Gone:
		return true
	}
	return false
}

// write sends v as JSON or XML, as the caller's Accept header prefers, else in the
// configured format.
func (a *API) write(w http.ResponseWriter, r *http.Request, status int, v any) {
	if a.format(r) == XML {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(xml.Header))
		_ = xml.NewEncoder(w).Encode(v)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *API) format(r *http.Request) Format {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return a.o.Format
	}
	// The configured format comes first, so it wins ties and */*.
	choices := []string{"application/json", "application/xml", "text/xml"}
	if a.o.Format == XML {
		choices = []string{"application/xml", "text/xml", "application/json"}
	}
	switch goautoneg.Negotiate(accept, choices) {
	case "application/json":
		return JSON
	case "application/xml", "text/xml":
		return XML
	}
	return a.o.Format
}
