package booking

import "time"

// Search selects bookings for portal staff; zero fields do not filter. Results run
// newest first, a page at a time.
type Search struct {
	// Text matches, ignoring case, the portal's or the provider's reference, the
	// student's or enroller's name or e-mail address, or the company.
	Text        string
	ProviderID  int64
	CourseID    int64
	States      []State
	CreatedFrom time.Time // inclusive
	CreatedTo   time.Time // exclusive
	BeforeID    int64     // bookings with a lower id: the next page
	Limit       int       // DefaultListLimit when 0
}

// Found is a booking as staff's search lists it, with the names of its course and
// provider.
type Found struct {
	Booking
	CourseName   string
	ProviderName string
}

// Event is a recorded change of a booking: its state, completion date, message or
// pending clean-up, as written in the same transaction as the change itself.
type Event struct {
	ID             int64
	BookingID      int64
	At             time.Time
	From, To       State
	Message        string
	CompletionDate string
	CleanupPending bool
}

// NotificationFilter selects notifications for staff; zero fields do not filter.
type NotificationFilter struct {
	Recipient string // matches part of the address, ignoring case
	Kind      string
	Unsent    bool // only those not sent yet
	BeforeID  int64
	Limit     int // DefaultListLimit when 0
}

// ListedNotification is a notification with the reference of its booking ("" for an
// account mail, which has none).
type ListedNotification struct {
	Notification
	BookingReference string
}
