package courseprovider

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// uploadBodyLimit bounds an upload's request body: the document limit, base64's
// growth by a third, and room for the other fields.
func (a *API) uploadBodyLimit() int64 {
	limit := a.Bookings.MaxDocumentBytes
	if limit <= 0 {
		limit = booking.DefaultMaxDocumentBytes
	}
	return limit/3*4 + 1<<20
}

// uploadDocumentation takes the file as multipart field "file", or as form fields
// fileName and base64 content.
func (a *API) uploadDocumentation(r *http.Request, p catalog.Provider, in params) (any, error) {
	name, content, err := uploadedFile(in)
	if err != nil {
		return nil, err
	}
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	d, err := a.Bookings.AddDocument(r.Context(), p, r.PathValue("bookingReference"), in.Get("documentType"), name, content)
	if err != nil {
		return nil, err
	}
	return succeeded(strconv.FormatInt(d.ID, 10)), nil
}

// maxFileNameChars bounds an uploaded file's name, as most file systems do.
const maxFileNameChars = 255

// checkFileName refuses a name that could not be stored or offered for download as
// given: control characters (a multipart name is not checked with the other
// parameters) and names longer than maxFileNameChars characters.
func checkFileName(name string) error {
	if err := catalog.CheckText("fileName", name, false); err != nil {
		return err
	}
	if tooLong := catalog.TooLong(name, maxFileNameChars); tooLong != "" {
		return errs.E(errs.Invalid, "fileName: %s", tooLong)
	}
	return nil
}

// uploadedFile returns the file's name and content.
func uploadedFile(in params) (string, []byte, error) {
	if f, ok := in.files["file"]; ok {
		name := f.name
		if v := in.Get("fileName"); v != "" {
			name = v
		}
		return name, f.content, nil
	}
	encoded := in.Get("content")
	if encoded == "" {
		return "", nil, errs.E(errs.Invalid, "file: is required (multipart field \"file\", or fileName and base64 content)")
	}
	// Tolerate line breaks and URL-safe alphabets that some encoders produce.
	encoded = strings.NewReplacer("\r", "", "\n", "", " ", "", "\t", "", "-", "+", "_", "/").Replace(encoded)
	content, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		content, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(encoded, "="))
	}
	if err != nil {
		return "", nil, errs.E(errs.Invalid, "content: is not base64")
	}
	return in.Get("fileName"), content, nil
}
