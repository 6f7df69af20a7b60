package courseprovider

import (
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

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
	lb, isList := v.(listBody)
	if wantsXML(r) {
		if isList {
			v = lb.xml
		}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(xml.Header))
		enc := xml.NewEncoder(w)
		if err := enc.Encode(v); err != nil {
			slog.ErrorContext(r.Context(), "encode xml", "err", err)
		}
		return
	}
	if isList {
		v = lb.json
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.ErrorContext(r.Context(), "encode json", "err", err)
	}
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
