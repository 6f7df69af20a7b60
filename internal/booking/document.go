package booking

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// Document types accepted by uploadDocumentation.
const (
	CourseCertificate = "COURSE_CERTIFICATE"
	OtherDocument     = "OTHER"
)

// DefaultMaxDocumentBytes is the default limit of one uploaded document: 10 MiB.
const DefaultMaxDocumentBytes = 10 << 20

// Document is a file a provider uploaded for a booking, typically a course
// certificate. Its content is stored once per SHA-256, durably, in the database.
type Document struct {
	ID          int64
	BookingID   int64
	Type        string
	FileName    string
	ContentType string
	Size        int64
	SHA256      string
	UploadedAt  time.Time
	Content     []byte // only when loaded for download
}

// DocumentStore keeps documents.
type DocumentStore interface {
	// AddDocument stores d and its content (once per d.SHA256) and sets d.ID. When the
	// booking already has a document of the same type, file name and content (a repeat
	// of an upload whose answer was lost), it stores nothing and sets d to that
	// document instead, atomically with the check.
	AddDocument(ctx context.Context, d *Document, content []byte) error
	// Documents lists a booking's documents without content, oldest first.
	Documents(ctx context.Context, bookingID int64) ([]Document, error)
	// Document returns one of a booking's documents with its content; errs.NotFound
	// when the booking has no such document.
	Document(ctx context.Context, bookingID, documentID int64) (Document, error)
}

// SniffContentType recognises PDF, PNG and JPEG by their first bytes, whatever the
// file is called.
func SniffContentType(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "application/pdf", nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "image/jpeg", nil
	}
	return "", errs.E(errs.Invalid, "file: the content is not a PDF, PNG or JPEG")
}

// AddDocument stores a document a provider uploads for its booking. Uploading the
// same file again (same type, name and content) returns the document already stored
// rather than a second copy, so a provider may retry an upload whose answer it never
// got (a timeout, a crash) without the enroller seeing the certificate twice.
func (s *Service) AddDocument(ctx context.Context, p catalog.Provider, ref, docType, fileName string, content []byte) (Document, error) {
	docType = strings.ToUpper(strings.TrimSpace(docType))
	if docType == "" {
		docType = CourseCertificate
	}
	if docType != CourseCertificate && docType != OtherDocument {
		return Document{}, errs.E(errs.Invalid, "documentType: %q is not COURSE_CERTIFICATE or OTHER", docType)
	}
	limit := s.MaxDocumentBytes
	if limit <= 0 {
		limit = DefaultMaxDocumentBytes
	}
	if int64(len(content)) > limit {
		return Document{}, errs.E(errs.TooLarge, "file: is larger than the limit of %d bytes", limit)
	}
	if len(content) == 0 {
		return Document{}, errs.E(errs.Invalid, "file: is required (multipart field \"file\", or fileName and base64 content)")
	}
	contentType, err := SniffContentType(content)
	if err != nil {
		return Document{}, err
	}
	b, err := s.ForProvider(ctx, p, ref) // ref: the portal's reference or the provider's own
	if err != nil {
		return Document{}, err
	}
	if b.State == Cancelled {
		return Document{}, errs.E(errs.Conflict, "booking %s is cancelled", ref)
	}
	name := path.Base(strings.ReplaceAll(strings.TrimSpace(fileName), "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = "document" + map[string]string{"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}[contentType]
	}
	sum := sha256.Sum256(content)
	d := Document{
		BookingID: b.ID, Type: docType, FileName: name, ContentType: contentType,
		Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), UploadedAt: s.now(),
	}
	if err := s.documents().AddDocument(ctx, &d, content); err != nil {
		return Document{}, err
	}
	return d, nil
}

// Documents lists the documents of a booking.
func (s *Service) Documents(ctx context.Context, b Booking) ([]Document, error) {
	return s.documents().Documents(ctx, b.ID)
}

// Document returns one document of a booking, with its content, for download.
func (s *Service) Document(ctx context.Context, b Booking, id int64) (Document, error) {
	d, err := s.documents().Document(ctx, b.ID, id)
	if errs.Is(err, errs.NotFound) {
		return Document{}, errs.E(errs.NotFound, "booking %s has no document %d", b.Reference, id)
	}
	return d, err
}

func (s *Service) documents() DocumentStore { return s.Store }
