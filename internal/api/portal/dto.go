package portal

import (
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/api/wire"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// courseDTO is a course as GET /api/v1/courses lists it.
type courseDTO struct {
	ID               int64  `json:"id"`
	ExternalCourseID string `json:"externalCourseId"`
	Name             string `json:"name"`
	Description      string `json:"description"`
	ProviderName     string `json:"providerName"`
}

// classDTO is a class: the portal's ids beside the fields of the course-provider
// API's class, with the same names.
type classDTO struct {
	ID       int64 `json:"id"`
	CourseID int64 `json:"courseId"`
	wire.Class
}

func toClassDTO(c catalog.Class) classDTO {
	return classDTO{ID: c.ID, CourseID: c.CourseID, Class: wire.FromClass(c)}
}

// classID is the classId of a booking request: a positive JSON number, or a string of
// digits as HTML forms send it.
type classID int64

// UnmarshalJSON reads a classId, with a message that says what it must be.
func (id *classID) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if unq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(unq)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return errs.E(errs.Invalid, "classId: must be a number or a string of digits (the class's id), not %s", quoteJSON(b))
	case n <= 0:
		return errs.E(errs.Invalid, "classId: must be a positive number (the class's id), not %d", n)
	}
	*id = classID(n)
	return nil
}

// quoteJSON shows a caller's JSON value in a message: short, and printable.
func quoteJSON(b []byte) string {
	s := string(b)
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return strconv.QuoteToASCII(s)
}

type personIn struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

// studentIn repeats personIn's fields rather than embedding it, so that a decoding
// error names the field as the caller wrote it (student.firstName).
type studentIn struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	BirthDate string `json:"birthDate"`
}

// bookRequest is the body of POST /api/v1/bookings.
type bookRequest struct {
	ClassID             classID   `json:"classId"`
	Student             studentIn `json:"student"`
	Enroller            personIn  `json:"enroller"`
	Company             string    `json:"company"`
	CommentOnEnrollment string    `json:"commentOnEnrollment"`
	PurchaseOrderNumber string    `json:"purchaseOrderNumber"`
}

func (p personIn) person() booking.Person {
	return booking.Person{FirstName: p.FirstName, LastName: p.LastName, Email: p.Email, Phone: p.Phone}
}

func (in bookRequest) toRequest() booking.Request {
	return booking.Request{
		ClassID:             int64(in.ClassID),
		Student:             personIn{in.Student.FirstName, in.Student.LastName, in.Student.Email, in.Student.Phone}.person(),
		StudentBirthDate:    in.Student.BirthDate,
		Enroller:            in.Enroller.person(),
		Company:             in.Company,
		Comment:             in.CommentOnEnrollment,
		PurchaseOrderNumber: in.PurchaseOrderNumber,
	}
}

type personDTO struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

type studentDTO struct {
	personDTO
	BirthDate string `json:"birthDate"`
}

// bookingAnswer is the answer of every booking method: bookingReference, status
// (the booking's state) and errorMessage always, "" when not applicable, and the
// booking's fields whenever a booking exists, even with an error.
type bookingAnswer struct {
	BookingReference string `json:"bookingReference"`
	Status           string `json:"status"`
	ErrorMessage     string `json:"errorMessage"`
	*bookingDTO
}

// bookingDTO is a booking's fields besides its reference and status.
type bookingDTO struct {
	ClassID                  int64      `json:"classId"`
	ExternalCourseClassID    string     `json:"externalCourseClassId"`
	Student                  studentDTO `json:"student"`
	Enroller                 personDTO  `json:"enroller"`
	Company                  string     `json:"company"`
	CommentOnEnrollment      string     `json:"commentOnEnrollment"`
	PurchaseOrderNumber      string     `json:"purchaseOrderNumber"`
	EnrollmentStatus         string     `json:"enrollmentStatus"`
	ProviderBookingReference string     `json:"providerBookingReference"`
	CompletionDate           string     `json:"completionDate"`
	Message                  string     `json:"message"`
	CreatedAt                string     `json:"createdAt"`
	UpdatedAt                string     `json:"updatedAt"`
	// Documents are the files the provider uploaded for the booking, such as the
	// course certificate; each has a download URL.
	Documents []documentDTO `json:"documents"`
}

// documentDTO describes an uploaded document; its content is at URL.
type documentDTO struct {
	ID          int64  `json:"id"`
	Type        string `json:"documentType"`
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	UploadedAt  string `json:"uploadedAt"`
	URL         string `json:"url"`
}

func toDocumentDTOs(ref string, docs []booking.Document) []documentDTO {
	out := make([]documentDTO, 0, len(docs))
	for _, d := range docs {
		out = append(out, documentDTO{ID: d.ID, Type: d.Type, FileName: d.FileName, ContentType: d.ContentType,
			Size: d.Size, SHA256: d.SHA256, UploadedAt: rfc3339(d.UploadedAt),
			URL: Base + "bookings/" + ref + "/documents/" + strconv.FormatInt(d.ID, 10)})
	}
	return out
}

func toPersonDTO(p booking.Person) personDTO {
	return personDTO{FirstName: p.FirstName, LastName: p.LastName, Email: p.Email, Phone: p.Phone}
}

func toBookingDTO(b booking.Booking, docs []booking.Document) *bookingDTO {
	return &bookingDTO{
		ClassID:                  b.ClassID,
		ExternalCourseClassID:    b.ClassExternalID,
		Student:                  studentDTO{personDTO: toPersonDTO(b.Student), BirthDate: b.StudentBirthDate},
		Enroller:                 toPersonDTO(b.Enroller),
		Company:                  b.Company,
		CommentOnEnrollment:      b.Comment,
		PurchaseOrderNumber:      b.PurchaseOrderNumber,
		EnrollmentStatus:         b.State.EnrollmentStatus(),
		ProviderBookingReference: b.ProviderReference,
		CompletionDate:           b.CompletionDate,
		Message:                  b.Message,
		CreatedAt:                rfc3339(b.CreatedAt),
		UpdatedAt:                rfc3339(b.UpdatedAt),
		Documents:                toDocumentDTOs(b.Reference, docs),
	}
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
