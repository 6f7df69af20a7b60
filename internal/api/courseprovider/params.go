package courseprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// maxFormBytes bounds a catalogue call's body; a class is a few hundred bytes.
const maxFormBytes = 1 << 20

// maxParts bounds the parts of a multipart body; a call has a few dozen fields.
const maxParts = 1000

// params are a call's parameters: form fields (urlencoded, multipart or a JSON object)
// and query parameters together, as the documentation sends "POST variables" and GET
// callers send the same names in the query. Every name and value is valid text
// (catalog.TextProblem) except the credentials, which Authenticate judges.
type params struct {
	url.Values
	files map[string]uploaded // multipart parts with a file name, by field name
}

// uploaded is a file sent as a multipart part.
type uploaded struct {
	name    string // as the part's Content-Disposition gives it, base name only
	content []byte
}

// freeTextParams may hold tab and line breaks: address lines are written on several
// lines, and base64 content is wrapped by many encoders.
var freeTextParams = map[string]bool{
	"address.addressLine1": true, "address.addressLine2": true, "addressLine1": true, "addressLine2": true,
	"content": true,
}

// credentialParams are judged by the Authenticator, so that bad bytes in them count
// as a failed login like any other wrong credentials.
var credentialParams = map[string]bool{"username": true, "password": true}

// readParams reads the body (within limit bytes) and the query. The body may be
// urlencoded or multipart, in UTF-8 or the charset it declares, or a JSON object.
func readParams(w http.ResponseWriter, r *http.Request, limit int64) (params, error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params{}, errs.E(errs.Invalid, "the query string is malformed (a %%-escape that is not two hex digits, or a ';' separator)")
	}
	in := params{Values: url.Values{}}
	if ct := r.Header.Get("Content-Type"); ct != "" && r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := in.readBody(r.Body, ct, limit); err != nil {
			return params{}, err
		}
	}
	// A parameter sent both in the body and in the query takes the body's value, as
	// the documentation sends everything as POST variables.
	for k, vs := range query {
		in.Values[k] = append(in.Values[k], vs...)
	}
	if err := in.checkText(); err != nil {
		return params{}, err
	}
	return in, nil
}

// readBody reads a body of media type ct into p. Other media types are not read: the
// parameters are then in the query.
func (p *params) readBody(body io.Reader, ct string, limit int64) error {
	mediaType, ctParams, err := mime.ParseMediaType(ct)
	if err != nil {
		return errs.E(errs.Invalid, "Content-Type: %q is not a media type such as application/x-www-form-urlencoded", ct)
	}
	switch {
	case mediaType == "application/x-www-form-urlencoded":
		dec, err := charsetDecoder(ctParams["charset"])
		if err != nil {
			return err
		}
		b, err := io.ReadAll(body)
		if err != nil {
			return readError(err)
		}
		if trimmed := bytes.TrimSpace(b); bytes.HasPrefix(trimmed, []byte("{")) && json.Valid(trimmed) {
			// A JSON object sent with curl -d's default Content-Type.
			return p.readJSON(bytes.NewReader(trimmed))
		}
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return errs.E(errs.Invalid, "the form body is malformed (a %%-escape that is not two hex digits, or a ';' separator)")
		}
		for k, vs := range form {
			for _, v := range vs {
				if err := p.add(dec, k, v); err != nil {
					return err
				}
			}
		}
		return nil
	case mediaType == "multipart/form-data":
		return p.readMultipart(body, ctParams, limit)
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		return p.readJSON(body)
	}
	return nil
}

// readMultipart reads a multipart/form-data body: text parts as parameters, in the
// part's declared charset (else the body's, else UTF-8), and file parts as files.
func (p *params) readMultipart(body io.Reader, ctParams map[string]string, limit int64) error {
	malformed := errs.E(errs.Invalid, "the multipart body is malformed: it must be parts separated by the boundary its Content-Type declares, and end with the closing boundary")
	boundary := ctParams["boundary"]
	if boundary == "" {
		return errs.E(errs.Invalid, "Content-Type: multipart/form-data needs a boundary parameter")
	}
	bodyCharset := ctParams["charset"]
	mr := multipart.NewReader(body, boundary)
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) && n > 0 {
			return nil
		}
		if err != nil {
			if errs.Is(readError(err), errs.TooLarge) {
				return readError(err)
			}
			return malformed
		}
		if n >= maxParts {
			return errs.E(errs.Invalid, "the multipart body has more than %d parts", maxParts)
		}
		content, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			if errs.Is(readError(err), errs.TooLarge) {
				return readError(err)
			}
			return malformed
		}
		name := part.FormName()
		if name == "" {
			continue // not a form field
		}
		if fileName := part.FileName(); fileName != "" {
			if p.files == nil {
				p.files = map[string]uploaded{}
			}
			if _, seen := p.files[name]; !seen {
				p.files[name] = uploaded{name: fileName, content: content}
			}
			continue
		}
		charset := bodyCharset
		if _, partParams, err := mime.ParseMediaType(part.Header.Get("Content-Type")); err == nil && partParams["charset"] != "" {
			charset = partParams["charset"]
		}
		dec, err := charsetDecoder(charset)
		if err != nil {
			return err
		}
		if err := p.add(dec, name, string(content)); err != nil {
			return err
		}
	}
}

// readJSON reads a JSON object with the documented field names, flat ("address.city")
// or nested ({"address": {"city": …}}), as one more tolerant input.
func (p *params) readJSON(body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return readError(err)
	}
	if !utf8.Valid(b) {
		return errs.E(errs.Invalid, "the JSON body is not valid UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil || obj == nil {
		return errs.E(errs.Invalid, "the JSON body must be one JSON object of parameters, such as {\"externalId\": \"W40\", \"address\": {\"city\": \"Oslo\"}}")
	}
	return p.addJSON("", obj)
}

// addJSON adds obj's members in the order of their names, so that a name sent both
// flat and nested always yields the same first value.
func (p *params) addJSON(prefix string, obj map[string]any) error {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		name := prefix + k
		switch v := v.(type) {
		case nil:
		case string:
			p.Values.Add(name, v)
		case json.Number:
			p.Values.Add(name, v.String())
		case bool:
			p.Values.Add(name, strconv.FormatBool(v))
		case map[string]any:
			if err := p.addJSON(name+".", v); err != nil {
				return err
			}
		default:
			return errs.E(errs.Invalid, "%s: must be a string, number, boolean or object, not an array", name)
		}
	}
	return nil
}

// add adds a form field, decoded from the body's charset when one was declared.
func (p *params) add(dec *encoding.Decoder, name, value string) error {
	if dec != nil {
		var err error
		if name, err = dec.String(name); err == nil {
			value, err = dec.String(value)
		}
		if err != nil {
			return errs.E(errs.Invalid, "%s: cannot be decoded from the declared charset", name)
		}
	}
	p.Values.Add(name, value)
	return nil
}

// checkText applies the text rule to every parameter, credentials excepted.
func (p params) checkText() error {
	names := make([]string, 0, len(p.Values))
	for name := range p.Values {
		names = append(names, name)
	}
	sort.Strings(names) // the first problem reported is the same on every call
	for _, name := range names {
		if problem := catalog.TextProblem(name, false); problem != "" {
			return errs.E(errs.Invalid, "the parameter name %s %s", strconv.QuoteToASCII(name), problem)
		}
		if credentialParams[name] {
			continue
		}
		for _, v := range p.Values[name] {
			if problem := catalog.TextProblem(v, freeTextParams[name]); problem != "" {
				if !utf8.ValidString(v) {
					problem += "; send UTF-8, or declare the form's charset in its Content-Type"
				}
				return errs.E(errs.Invalid, "%s: %s", name, problem)
			}
		}
	}
	return nil
}

// charsetDecoder returns the decoder for a declared charset, nil for UTF-8 (and its
// subset US-ASCII), which needs none. Labels are resolved as browsers resolve them
// (WHATWG Encoding Standard): "latin1" and "ISO-8859-1" read as windows-1252, which
// agrees with ISO-8859-1 on every printable character.
func charsetDecoder(charset string) (*encoding.Decoder, error) {
	label := strings.ToLower(strings.TrimSpace(charset))
	switch label {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return nil, nil
	}
	enc, err := htmlindex.Get(label)
	if err == nil {
		if name, _ := htmlindex.Name(enc); name != "replacement" && name != "utf-8" {
			return enc.NewDecoder(), nil
		} else if name == "utf-8" {
			return nil, nil
		}
	}
	return nil, errs.E(errs.Invalid, "Content-Type: charset %s is not known; send UTF-8, or declare ISO-8859-1 or windows-1252", strconv.QuoteToASCII(charset))
}

// readError turns a failure to read the body into an error for the caller: too large,
// or not readable (cut off, or the connection failed).
func readError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errs.E(errs.TooLarge, "the request body is larger than the limit of %d bytes", tooBig.Limit)
	}
	return errs.E(errs.Invalid, "the request body could not be read to its end")
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
