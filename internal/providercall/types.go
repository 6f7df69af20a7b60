package providercall

import (
	"context"
	"time"
)

// Target is where and how to call one provider.
type Target struct {
	ProviderID   int64
	ProviderName string
	// ReserveURL and CancelURL may be templates with placeholders: every
	// parameter name of the call, such as {externalCourseClassId} or
	// {trainingportalBookingReference}, and in a cancel URL
	// {bookingReference} = {providerBookingReference} = {enrollmentReference}
	// for the provider's reference; see ExpandURL.
	ReserveURL string
	CancelURL  string
	// Secret is optional; when set, every call carries a timestamp and an
	// HMAC-SHA256 signature header (see Sign).
	Secret []byte
}

// Person is a student or an enroller as sent to the provider.
type Person struct {
	FirstName string
	LastName  string
	Email     string
	Phone     string
}

// ReserveRequest is what the portal sends to a provider's reserve URL.
type ReserveRequest struct {
	ExternalCourseClassID string // required: the provider's id of the course class
	// ExternalCourseID is the provider's id of the class's course: class ids are
	// unique per course, not per provider.
	ExternalCourseID string
	BookingReference string // the portal's, sent as trainingportalBookingReference
	Student          Person
	StudentBirthDate string // yyyy-MM-dd or ""
	Enroller         Person
	Company          string
}

// ReserveAnswer is a provider's readable answer to a reserve call.
type ReserveAnswer struct {
	Successful bool
	// ProviderBookingReference is the provider's own reference for the
	// booking (the answer's bookingReference field).
	ProviderBookingReference string
	ErrorMessage             string
}

// CancelRequest is what the portal sends to a provider's cancel URL. At least
// one of the two references must be set: the portal cleans up abandoned
// reservations for which it never learnt the provider's reference.
type CancelRequest struct {
	ProviderBookingReference string // sent as bookingReference, as in the seed's example
	BookingReference         string // the portal's, sent as trainingportalBookingReference
}

// CancelAnswer is a provider's readable answer to a cancel call.
type CancelAnswer struct {
	Cancelled    bool
	ErrorMessage string
}

// Kind says which provider URL a call went to.
type Kind string

// The kinds of call.
const (
	KindReserve Kind = "reserve"
	KindCancel  Kind = "cancel"
)

// Outcome classifies a call for the journal and metrics.
type Outcome string

// The outcomes of a call.
const (
	// OutcomeAnswered means the provider gave a readable answer, successful or not.
	OutcomeAnswered Outcome = "answered"
	// OutcomeFailed means there was no usable answer: refused target, network
	// error, timeout, non-2xx status, HTML, too large or unreadable body.
	OutcomeFailed Outcome = "failed"
)

// Call is one journal entry.
type Call struct {
	ID           int64 // the journal's id, once stored
	At           time.Time
	ProviderID   int64
	ProviderName string
	Kind         Kind
	// URL is the URL called, with secret-looking query values and any
	// userinfo password redacted: the journal never holds a secret.
	URL              string
	BookingReference string // the portal's booking reference
	HTTPStatus       int    // 0 when there was no response
	Latency          time.Duration
	Outcome          Outcome
	Success          bool   // answered and successful (reserve) or cancelled (cancel)
	Error            string // a clear human-readable reason when the call failed

	// The request as sent, for staff reading the journal: the method and each
	// parameter as a "name=value" line, personal data and secret-looking values
	// redacted as in URL (see RequestParams).
	RequestMethod string
	RequestParams string
	// The answer as received: its Content-Type and the first JournalBodyBytes of
	// its body (as text; AnswerTruncated when there was more).
	AnswerContentType string
	AnswerBody        string
	AnswerTruncated   bool
}

// Journal stores calls. The storage layer implements it.
type Journal interface {
	RecordCall(ctx context.Context, c Call) error
}
