package courseprovider

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// maxFormBytes bounds a catalogue call's body; a class is a few hundred bytes.
const maxFormBytes = 1 << 20

// params are a call's parameters: form fields (urlencoded or multipart) and query
// parameters together, as the documentation sends "POST variables" and GET callers
// send the same names in the query.
type params struct{ url.Values }

// readParams parses the body (within limit bytes) and the query.
func readParams(w http.ResponseWriter, r *http.Request, limit int64) (params, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	ct := r.Header.Get("Content-Type")
	var err error
	if strings.HasPrefix(ct, "multipart/form-data") {
		err = r.ParseMultipartForm(limit)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return params{}, errs.E(errs.TooLarge, "request body is larger than %d bytes", limit)
		}
		if !errors.Is(err, http.ErrNotMultipart) {
			return params{}, errs.E(errs.Invalid, "cannot read the parameters: %v", err)
		}
	}
	// A parameter sent both in the body and in the query takes the body's value, as
	// the documentation sends everything as POST variables. r.Form already orders
	// urlencoded bodies first; multipart values must be put first here.
	if r.MultipartForm == nil {
		return params{r.Form}, nil
	}
	v := url.Values{}
	for k, vs := range r.MultipartForm.Value {
		v[k] = append(v[k], vs...)
	}
	for k, vs := range r.URL.Query() {
		v[k] = append(v[k], vs...)
	}
	return params{v}, nil
}

// opt returns a pointer to the first value of the first name present, nil when absent.
func (p params) opt(names ...string) *string {
	for _, n := range names {
		if vs, ok := p.Values[n]; ok && len(vs) > 0 {
			s := vs[0]
			return &s
		}
	}
	return nil
}

// classFields reads the class parameters, with the documented dotted names, the
// update page's "erollmentDeadline" spelling, and the bare nested names as fallbacks.
func (p params) classFields() catalog.ClassFields {
	return catalog.ClassFields{
		ExternalID:           p.opt("externalId"),
		Location:             p.opt("location"),
		AvailableSeats:       p.opt("availableSeats"),
		EnrollmentDeadline:   p.opt("enrollmentDeadline", "erollmentDeadline"),
		CancellationDeadline: p.opt("cancellationDeadline"),
		StartDate:            p.opt("startDate"),
		StartTime:            p.opt("startTime"),
		EndDate:              p.opt("endDate"),
		EndTime:              p.opt("endTime"),
		AddressLine1:         p.opt("address.addressLine1", "addressLine1"),
		AddressLine2:         p.opt("address.addressLine2", "addressLine2"),
		City:                 p.opt("address.city", "city"),
		ZipCode:              p.opt("address.zipCode", "zipCode"),
		Country:              p.opt("address.country", "country"),
		Currency:             p.opt("price.currency", "currency"),
		Amount:               p.opt("price.amount", "amount"),
		SendScheduleInfo:     p.opt("sendScheduleInfoToParticipants"),
		TimeZone:             p.opt("timeZone"),
	}
}

// credentials returns the username and password: the documented parameters first,
// HTTP Basic otherwise.
func (p params) credentials(r *http.Request) (string, string) {
	user, pass := p.Get("username"), p.Get("password")
	if user == "" && pass == "" {
		if u, pw, ok := r.BasicAuth(); ok {
			return u, pw
		}
	}
	return user, pass
}

// ClientIP returns the caller's address for rate limiting: the connection's peer, or,
// behind a trusted reverse proxy, the last address it appended to X-Forwarded-For.
func ClientIP(r *http.Request, trustForwarded bool) string {
	if trustForwarded {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
