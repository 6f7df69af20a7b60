package tpclient

// Course is a course the caller is the provider of, as getCourses returns it.
type Course struct {
	ID               string // Trainingportal's id of the course
	ExternalCourseID string // the provider's id of the course
	Name             string
	Description      string
}

// Address is where a course class takes place.
type Address struct {
	AddressLine1 string
	AddressLine2 string
	City         string
	ZipCode      string
	Country      string
}

// Price is a course class's price.
type Price struct {
	Currency string // NOK, EUR, USD or GBP
	Amount   string // an exact decimal, such as "12500.00"; never a float
}

// CourseClass is a dated run of a course, with the documented fields. Dates are
// "yyyy-MM-dd" and times "HH:mm", local to the class's venue.
type CourseClass struct {
	ExternalID           string // the provider's id of the class
	CourseExternalID     string // the provider's id of the course (in answers)
	Location             string
	AvailableSeats       int
	EnrollmentDeadline   string
	CancellationDeadline string
	StartDate            string
	StartTime            string // optional
	EndDate              string
	EndTime              string // optional
	Address              Address
	Price                Price
	// SendScheduleInfoToParticipants is sent only when set; the server's default is true.
	SendScheduleInfoToParticipants *bool
	Cancelled                      bool   // in answers: cancelled but not yet deleted
	TimeZone                       string // IANA zone of the venue, a tportal extension; optional
}

// ClassUpdate is a change to a course class: ExternalID names the class, and only the
// fields that are set are sent, so only they change.
type ClassUpdate struct {
	ExternalID                     string
	Location                       *string
	AvailableSeats                 *int
	EnrollmentDeadline             *string
	CancellationDeadline           *string
	StartDate                      *string
	StartTime                      *string
	EndDate                        *string
	EndTime                        *string
	AddressLine1                   *string
	AddressLine2                   *string
	City                           *string
	ZipCode                        *string
	Country                        *string
	Currency                       *string
	Amount                         *string
	SendScheduleInfoToParticipants *bool
	TimeZone                       *string
}

// Person is someone named in a booking: the enroller.
type Person struct {
	FirstName string
	LastName  string
	Email     string
	Phone     string // digits only, country code first, no "+"
}

// BookingInformation is what getBookingInformation tells about one booking.
type BookingInformation struct {
	BookingReference         string // the portal's booking reference
	ProviderBookingReference string // the provider's, as its reserve answer gave it
	ExternalCourseClassID    string
	ExternalCourseID         string
	FirstName                string // the student's
	LastName                 string
	Email                    string
	Phone                    string // digits only, country code first, no "+"
	BirthDate                string // yyyy-MM-dd
	Enroller                 Person
	Company                  string
	EnrollmentStatus         string // NEW, COMPLETED, NO_SHOW or FAILED
	CommentOnEnrollment      string
	PurchaseOrderNumber      string // to be referenced on invoices when present
}

// BookingStatus is a status a provider reports with UpdateBookingStatus.
type BookingStatus string

// The statuses UpdateBookingStatus accepts.
const (
	StatusNew       BookingStatus = "NEW"
	StatusNoShow    BookingStatus = "NO_SHOW"
	StatusFailed    BookingStatus = "FAILED"
	StatusCompleted BookingStatus = "COMPLETED" // needs a completion date
)

// DocumentType is the kind of an uploaded document.
type DocumentType string

// The document types the API knows.
const (
	DocumentCourseCertificate DocumentType = "COURSE_CERTIFICATE" // the default
	DocumentOther             DocumentType = "OTHER"
)

// Document is a file to upload for a booking: a PDF, PNG or JPEG.
type Document struct {
	FileName string
	Content  []byte
	Type     DocumentType // empty means COURSE_CERTIFICATE
}

// UploadResult is the answer to an upload.
type UploadResult struct {
	DocumentID string // the stored document's id, when the server tells it
}
