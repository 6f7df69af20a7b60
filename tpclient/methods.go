package tpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/url"
	"strconv"
)

// Courses returns the courses the caller is the provider of (getCourses).
func (c *Client) Courses(ctx context.Context) ([]Course, error) {
	n, err := c.do(ctx, call{name: "getCourses", path: []string{"courses", "get"}, repeat: repeatSafe})
	if err != nil {
		return nil, err
	}
	items := n.items()
	out := make([]Course, 0, len(items))
	for _, it := range items {
		out = append(out, readCourse(it))
	}
	return out, nil
}

// CourseClasses returns the classes of the course, cancelled ones (not yet deleted)
// with Cancelled set (getCourseClasses).
func (c *Client) CourseClasses(ctx context.Context, externalCourseID string) ([]CourseClass, error) {
	n, err := c.do(ctx, call{name: "getCourseClasses", path: []string{"courses", "get", externalCourseID, "courseClasses"}, repeat: repeatSafe})
	if err != nil {
		return nil, err
	}
	items := n.items()
	out := make([]CourseClass, 0, len(items))
	for _, it := range items {
		out = append(out, readClass(it))
	}
	return out, nil
}

// AddClass adds a class to the course and returns it as stored (addClass). A class
// whose ExternalID exists already is ErrConflict. AddClass is not repeated once the
// server may have acted on it: after a network error, look with CourseClasses.
func (c *Client) AddClass(ctx context.Context, externalCourseID string, cl CourseClass) (CourseClass, error) {
	form := url.Values{}
	set := func(k, v string) {
		if v != "" {
			form.Set(k, v)
		}
	}
	form.Set("externalId", cl.ExternalID)
	form.Set("location", cl.Location)
	form.Set("availableSeats", strconv.Itoa(cl.AvailableSeats))
	form.Set("enrollmentDeadline", cl.EnrollmentDeadline)
	form.Set("cancellationDeadline", cl.CancellationDeadline)
	form.Set("startDate", cl.StartDate)
	set("startTime", cl.StartTime)
	form.Set("endDate", cl.EndDate)
	set("endTime", cl.EndTime)
	form.Set("address.addressLine1", cl.Address.AddressLine1)
	set("address.addressLine2", cl.Address.AddressLine2)
	form.Set("address.city", cl.Address.City)
	form.Set("address.zipCode", cl.Address.ZipCode)
	form.Set("address.country", cl.Address.Country)
	form.Set("price.currency", cl.Price.Currency)
	form.Set("price.amount", cl.Price.Amount)
	if cl.SendScheduleInfoToParticipants != nil {
		form.Set("sendScheduleInfoToParticipants", strconv.FormatBool(*cl.SendScheduleInfoToParticipants))
	}
	set("timeZone", cl.TimeZone)
	n, err := c.do(ctx, call{name: "addClass", path: []string{"courses", "get", externalCourseID, "courseClasses", "add"}, form: form, repeat: repeatUnsent})
	if err != nil {
		return CourseClass{}, err
	}
	return readClass(n), nil
}

// UpdateClass changes the fields of u that are set and returns the class as stored
// (updateClass). An unknown class is ErrNotFound; a cancelled one ErrConflict
// (restore it first).
func (c *Client) UpdateClass(ctx context.Context, externalCourseID string, u ClassUpdate) (CourseClass, error) {
	form := url.Values{"externalId": {u.ExternalID}}
	for name, v := range map[string]*string{
		"location": u.Location, "cancellationDeadline": u.CancellationDeadline,
		"startDate": u.StartDate, "startTime": u.StartTime, "endDate": u.EndDate, "endTime": u.EndTime,
		"address.addressLine1": u.AddressLine1, "address.addressLine2": u.AddressLine2,
		"address.city": u.City, "address.zipCode": u.ZipCode, "address.country": u.Country,
		"price.currency": u.Currency, "price.amount": u.Amount, "timeZone": u.TimeZone,
	} {
		if v != nil {
			form.Set(name, *v)
		}
	}
	if u.EnrollmentDeadline != nil {
		// The update page documents the misspelt name; tportal reads both.
		form.Set("erollmentDeadline", *u.EnrollmentDeadline)
		form.Set("enrollmentDeadline", *u.EnrollmentDeadline)
	}
	if u.AvailableSeats != nil {
		form.Set("availableSeats", strconv.Itoa(*u.AvailableSeats))
	}
	if u.SendScheduleInfoToParticipants != nil {
		form.Set("sendScheduleInfoToParticipants", strconv.FormatBool(*u.SendScheduleInfoToParticipants))
	}
	// Setting the same values twice leaves the same class: safe to repeat.
	n, err := c.do(ctx, call{name: "updateClass", path: []string{"courses", "get", externalCourseID, "courseClasses", "update"}, form: form, repeat: repeatSafe})
	if err != nil {
		return CourseClass{}, err
	}
	return readClass(n), nil
}

// CancelClass cancels a class (cancelClass): one without bookings is deleted at once,
// one with bookings is kept for a while and may be restored. An already cancelled
// class is ErrConflict.
func (c *Client) CancelClass(ctx context.Context, externalCourseID, externalClassID string) error {
	return c.status(ctx, call{name: "cancelClass", path: []string{"courses", "get", externalCourseID, "courseClasses", "cancel", externalClassID}, repeat: repeatUnsent})
}

// RestoreClass publishes a cancelled class again (restoreClass). A class that is
// unknown or already deleted is ErrNotFound; one that is published ErrConflict.
func (c *Client) RestoreClass(ctx context.Context, externalCourseID, externalClassID string) error {
	return c.status(ctx, call{name: "restoreClass", path: []string{"courses", "get", externalCourseID, "courseClasses", "restore", externalClassID}, repeat: repeatUnsent})
}

// BookingInformation returns a booking (getBookingInformation). bookingReference is
// the portal's booking reference or the provider's own. While the portal's reserve
// call to the provider is still in flight the portal answers 404 with Retry-After;
// the client waits and asks again, up to its retries, before it returns ErrNotFound.
// A booking that was rejected or abandoned is ErrGone.
func (c *Client) BookingInformation(ctx context.Context, bookingReference string) (BookingInformation, error) {
	n, err := c.do(ctx, call{name: "getBookingInformation", path: []string{"booking", "get", bookingReference}, repeat: repeatSafeOrPending})
	if err != nil {
		return BookingInformation{}, err
	}
	return readBooking(n), nil
}

// UpdateBookingStatus reports a booking's outcome (updateBookingStatus).
// completionDate ("yyyy-MM-dd") is required for StatusCompleted and is not sent when
// empty.
func (c *Client) UpdateBookingStatus(ctx context.Context, bookingReference string, status BookingStatus, completionDate string) error {
	form := url.Values{"newStatus": {string(status)}}
	if completionDate != "" {
		form.Set("completionDate", completionDate)
	}
	return c.status(ctx, call{name: "updateBookingStatus", path: []string{"booking", "update", bookingReference}, form: form, repeat: repeatSafe})
}

// UploadDocumentation uploads a document for a booking, a course certificate unless
// doc.Type says otherwise (uploadDocumentation). It is sent as multipart field "file".
// A repeated upload stores a second document, so it is retried only when the server
// cannot have received it.
func (c *Client) UploadDocumentation(ctx context.Context, bookingReference string, doc Document) (UploadResult, error) {
	if len(doc.Content) == 0 {
		return UploadResult{}, errors.New("tpclient: uploadDocumentation: the document is empty")
	}
	docType := doc.Type
	if docType == "" {
		docType = DocumentCourseCertificate
	}
	name := doc.FileName
	if name == "" {
		name = "document"
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"username", c.username}, {"password", c.password}, {"documentType", string(docType)}, {"fileName", name}} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return UploadResult{}, fmt.Errorf("tpclient: uploadDocumentation: %w", err)
		}
	}
	fw, err := mw.CreateFormFile("file", name)
	if err == nil {
		_, err = fw.Write(doc.Content)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return UploadResult{}, fmt.Errorf("tpclient: uploadDocumentation: %w", err)
	}
	cl := call{name: "uploadDocumentation", path: []string{"booking", "uploadDocumentation", bookingReference},
		body: body.Bytes(), contentType: mw.FormDataContentType(), repeat: repeatUnsent}
	n, err := c.do(ctx, cl)
	if err != nil {
		return UploadResult{}, err
	}
	s := readStatus(n)
	if s.present && !s.successful {
		return UploadResult{}, &APIError{Method: cl.name, StatusCode: 200, Message: nonEmpty(s.errorMessage, "not successful")}
	}
	return UploadResult{DocumentID: s.documentID}, nil
}

// status sends a call whose answer is a status message and turns successful=false
// into an error.
func (c *Client) status(ctx context.Context, cl call) error {
	n, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	if s := readStatus(n); s.present && !s.successful {
		return &APIError{Method: cl.name, StatusCode: 200, Message: nonEmpty(s.errorMessage, "not successful")}
	}
	return nil
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
