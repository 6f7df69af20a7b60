package courseprovider

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tportal/tportal/internal/errs"
)

// wantsXML reports whether the caller asked for XML: Accept names application/xml or
// text/xml and does not prefer JSON. JSON is the default, as documented.
func wantsXML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return false
	}
	best, bestQ := "", -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			var err error
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				q = 0
			}
		}
		switch mt {
		case "application/xml", "text/xml", "application/json":
			if q > bestQ {
				best, bestQ = mt, q
			}
		}
	}
	return best == "application/xml" || best == "text/xml"
}

// write sends v as JSON or XML with the status.
func write(w http.ResponseWriter, r *http.Request, status int, v any) {
	if raw, ok := v.(rawBody); ok {
		w.Header().Set("Content-Type", raw.contentType)
		w.WriteHeader(status)
		_, _ = w.Write(raw.body)
		return
	}
	asXML := wantsXML(r)
	w.Header().Set("Content-Type", contentType(asXML))
	w.WriteHeader(status)
	if err := encode(w, v, asXML); err != nil {
		slog.ErrorContext(r.Context(), "encode", "xml", asXML, "err", err)
	}
}

func contentType(asXML bool) string {
	if asXML {
		return "application/xml; charset=utf-8"
	}
	return "application/json; charset=utf-8"
}

// encode writes v to w as JSON or XML, as the API writes every body.
func encode(w io.Writer, v any, asXML bool) error {
	lb, isList := v.(listBody)
	if asXML {
		if isList {
			v = lb.xml
		}
		if _, err := io.WriteString(w, xml.Header); err != nil {
			return err
		}
		return xml.NewEncoder(w).Encode(v)
	}
	if isList {
		v = lb.json
	}
	return json.NewEncoder(w).Encode(v)
}

// rawBody is an answer already encoded, written as it is.
type rawBody struct {
	contentType string
	body        []byte
}

// encoded returns v encoded as write would send it.
func encoded(v any, asXML bool) (rawBody, error) {
	var buf bytes.Buffer
	if err := encode(&buf, v, asXML); err != nil {
		return rawBody{}, errs.Wrap(err, "encode answer")
	}
	return rawBody{contentType: contentType(asXML), body: buf.Bytes()}, nil
}

// answerCache keeps the latest encoded answer per key (a course or a provider) and
// format, with the version it was built at. It holds at most two answers per key
// (JSON and XML); courses and providers are created only by the portal's staff.
type answerCache struct {
	m sync.Map // answerKey -> *cachedAnswer
}

type answerKey struct {
	id  int64
	xml bool
}

type cachedAnswer struct {
	version int64
	body    rawBody
}

// get returns the answer cached for the key at exactly this version.
func (c *answerCache) get(id int64, asXML bool, version int64) (rawBody, bool) {
	v, ok := c.m.Load(answerKey{id, asXML})
	if !ok || v.(*cachedAnswer).version != version {
		return rawBody{}, false
	}
	return v.(*cachedAnswer).body, true
}

// put caches body as the key's answer at version. Two callers building at once
// may store in either order: an older version only costs the next call a rebuild.
func (c *answerCache) put(id int64, asXML bool, version int64, body rawBody) {
	c.m.Store(answerKey{id, asXML}, &cachedAnswer{version: version, body: body})
}

// errorBody is the documented error shape. It also carries the status message's
// flag, false, in both spellings (see statusMessage), so a client that reads only the
// flag sees the failure.
type errorBody struct {
	XMLName      xml.Name `json:"-" xml:"error"`
	Successful   bool     `json:"successful" xml:"successful"`
	Sucessful    bool     `json:"sucessful" xml:"sucessful"`
	ErrorMessage string   `json:"errorMessage" xml:"errorMessage"`
}

// statusMessage is the documented body of restore, cancel, booking update and upload.
// The public docs spell the flag successful in their tables and sucessful in their
// examples, and providers have coded to both: it is answered in both spellings.
type statusMessage struct {
	XMLName      xml.Name `json:"-" xml:"statusMessage"`
	Successful   bool     `json:"successful" xml:"successful"`
	Sucessful    bool     `json:"sucessful" xml:"sucessful"`
	ErrorMessage string   `json:"errorMessage" xml:"errorMessage"`
	DocumentID   string   `json:"documentId,omitempty" xml:"documentId,omitempty"`
}

// succeeded is the status message of a method that did what it was asked, with the
// id of the stored document for an upload ("" otherwise).
func succeeded(documentID string) statusMessage {
	return statusMessage{Successful: true, Sucessful: true, DocumentID: documentID}
}

// writeError sends err in the documented error shape with the status of the one
// errs table. Internal errors are logged with their cause and shown only generically.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := errs.HTTPStatus(err)
	switch errs.CodeOf(err) {
	case errs.Internal:
		slog.ErrorContext(r.Context(), "internal error", "route", r.Pattern, "err", err)
	case errs.Unauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="tportal course-provider API", charset="UTF-8"`)
	case errs.RateLimited:
		w.Header().Set("Retry-After", "10")
	case errs.Unavailable:
		w.Header().Set("Retry-After", "1")
	}
	write(w, r, status, errorBody{ErrorMessage: errs.MessageOf(err)})
}
