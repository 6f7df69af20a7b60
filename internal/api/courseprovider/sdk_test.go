package courseprovider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/api/courseprovider"
	"github.com/tportal/tportal/internal/api/openapi/openapitest"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store/storetest"
	"github.com/tportal/tportal/tpclient"
)

// The suites below drive every API v1 method through the public SDK against the real
// portal, so the SDK cannot drift from the server.

// sdkFormats are the answer formats each SDK suite runs in.
var sdkFormats = []struct {
	name string
	opts []tpclient.Option
}{
	{"json", nil},
	{"xml", []tpclient.Option{tpclient.WithXML()}},
}

// sdkClient returns an SDK client for the portal with the credentials, retrying fast,
// whose every exchange is checked against the OpenAPI description.
func (p *portal) sdkClient(t *testing.T, user, password string, opts ...tpclient.Option) *tpclient.Client {
	t.Helper()
	opts = append([]tpclient.Option{tpclient.WithBackoff(time.Millisecond, 2*time.Second), tpclient.WithHTTPClient(validatingClient(t))}, opts...)
	c, err := tpclient.New(p.root+courseprovider.Base, user, password, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sdkClass(externalID string) tpclient.CourseClass {
	return tpclient.CourseClass{
		ExternalID: externalID, Location: "Oslo", AvailableSeats: 12,
		EnrollmentDeadline: "2030-09-20", CancellationDeadline: "2030-09-25",
		StartDate: "2030-10-01", StartTime: "09:00", EndDate: "2030-10-03", EndTime: "15:30",
		Address: tpclient.Address{AddressLine1: "Karl Johans gate 1", City: "Oslo", ZipCode: "0154", Country: "NO"},
		Price:   tpclient.Price{Currency: "NOK", Amount: "12500.50"},
	}
}

// wantAPIError fails unless err is sentinel with a message containing msg.
func wantAPIError(t *testing.T, what string, err, sentinel error, msg string) {
	t.Helper()
	var apiErr *tpclient.APIError
	if !errors.Is(err, sentinel) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, msg) {
		t.Errorf("%s: error %v, want %v with a message containing %q", what, err, sentinel, msg)
	}
}

func TestSDKCatalogue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		for _, format := range sdkFormats {
			t.Run(format.name, func(t *testing.T) {
				p := newPortal(t, dialect)
				ctx := context.Background()
				c := p.sdkClient(t, "acme", p.acme.Get("password"), format.opts...)

				courses, err := c.Courses(ctx)
				if err != nil || len(courses) != 1 || courses[0].ExternalCourseID != "BST" || courses[0].Name != "BST course" ||
					courses[0].Description != "about BST" || courses[0].ID == "" {
					t.Fatalf("Courses = %+v, %v", courses, err)
				}

				added, err := c.AddClass(ctx, "BST", sdkClass("W40"))
				if err != nil {
					t.Fatal(err)
				}
				want := sdkClass("W40")
				want.CourseExternalID, want.TimeZone = "BST", "Europe/Oslo"
				if added.SendScheduleInfoToParticipants == nil || !*added.SendScheduleInfoToParticipants {
					t.Errorf("sendScheduleInfoToParticipants = %v, want the default true", added.SendScheduleInfoToParticipants)
				}
				added.SendScheduleInfoToParticipants = nil
				if added != want {
					t.Errorf("AddClass =\n%+v\nwant\n%+v", added, want)
				}
				_, err = c.AddClass(ctx, "BST", sdkClass("W40"))
				wantAPIError(t, "AddClass again", err, tpclient.ErrConflict, "W40")

				noSchedule := sdkClass("W41")
				noSchedule.SendScheduleInfoToParticipants = new(false)
				noSchedule.TimeZone = "Europe/London"
				noSchedule.Address.AddressLine2 = "2nd floor"
				if got, err := c.AddClass(ctx, "BST", noSchedule); err != nil || got.SendScheduleInfoToParticipants == nil ||
					*got.SendScheduleInfoToParticipants || got.TimeZone != "Europe/London" || got.Address.AddressLine2 != "2nd floor" {
					t.Errorf("AddClass W41 = %+v, %v", got, err)
				}

				classes, err := c.CourseClasses(ctx, "BST")
				if err != nil || len(classes) != 2 {
					t.Fatalf("CourseClasses = %+v, %v", classes, err)
				}

				updated, err := c.UpdateClass(ctx, "BST", tpclient.ClassUpdate{ExternalID: "W40", AvailableSeats: new(3), EnrollmentDeadline: new("2030-09-21")})
				if err != nil || updated.AvailableSeats != 3 || updated.EnrollmentDeadline != "2030-09-21" || updated.Location != "Oslo" ||
					updated.StartTime != "09:00" || updated.Price.Amount != "12500.50" {
					t.Errorf("UpdateClass = %+v, %v", updated, err)
				}
				_, err = c.UpdateClass(ctx, "BST", tpclient.ClassUpdate{ExternalID: "NOPE", AvailableSeats: new(1)})
				wantAPIError(t, "UpdateClass unknown", err, tpclient.ErrNotFound, "NOPE")
				_, err = c.UpdateClass(ctx, "BST", tpclient.ClassUpdate{ExternalID: "W40", StartDate: new("2030-13-01")})
				wantAPIError(t, "UpdateClass bad date", err, tpclient.ErrBadRequest, "startDate")

				wantAPIError(t, "RestoreClass published", c.RestoreClass(ctx, "BST", "W40"), tpclient.ErrConflict, "")
				if err := c.CancelClass(ctx, "BST", "W40"); err != nil {
					t.Fatalf("CancelClass: %v", err)
				}
				wantAPIError(t, "RestoreClass deleted", c.RestoreClass(ctx, "BST", "W40"), tpclient.ErrNotFound, "")
				wantAPIError(t, "CancelClass deleted", c.CancelClass(ctx, "BST", "W40"), tpclient.ErrNotFound, "")

				// A cancelled class with bookings is kept, listed as cancelled, and restorable.
				if _, err := p.db.SQL().Exec(`UPDATE classes SET ever_booked = TRUE`); err != nil {
					t.Fatal(err)
				}
				if err := c.CancelClass(ctx, "BST", "W41"); err != nil {
					t.Fatal(err)
				}
				wantAPIError(t, "CancelClass cancelled", c.CancelClass(ctx, "BST", "W41"), tpclient.ErrConflict, "")
				_, err = c.UpdateClass(ctx, "BST", tpclient.ClassUpdate{ExternalID: "W41", Location: new("Bergen")})
				wantAPIError(t, "UpdateClass cancelled", err, tpclient.ErrConflict, "restore")
				classes, err = c.CourseClasses(ctx, "BST")
				if err != nil || len(classes) != 1 || !classes[0].Cancelled || classes[0].ExternalID != "W41" {
					t.Errorf("CourseClasses after cancel = %+v, %v", classes, err)
				}
				if err := c.RestoreClass(ctx, "BST", "W41"); err != nil {
					t.Fatal(err)
				}
				if classes, err := c.CourseClasses(ctx, "BST"); err != nil || len(classes) != 1 || classes[0].Cancelled {
					t.Errorf("CourseClasses after restore = %+v, %v", classes, err)
				}

				_, err = c.CourseClasses(ctx, "FA")
				wantAPIError(t, "another provider's course", err, tpclient.ErrForbidden, "another provider")
				_, err = c.CourseClasses(ctx, "NOPE")
				wantAPIError(t, "unknown course", err, tpclient.ErrNotFound, "NOPE")
				_, err = p.sdkClient(t, "acme", "wrong-password-1", format.opts...).Courses(ctx)
				wantAPIError(t, "wrong password", err, tpclient.ErrUnauthorized, "wrong username or password")
				if err != nil && strings.Contains(err.Error(), "wrong-password-1") {
					t.Errorf("error shows the password: %v", err)
				}
			})
		}
	})
}

// sdkBooking adds a class through the SDK, points acme's reserve URL at a provider that
// confirms each reservation through the SDK from a goroutine it starts before it
// answers, and books the class. It returns the booking and what the provider's
// confirmation saw.
func sdkBooking(t *testing.T, p *portal, c *tpclient.Client, opts ...tpclient.Option) (booking.Booking, func() (tpclient.BookingInformation, []int, error)) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.AddClass(ctx, "BST", sdkClass("BOOKME")); err != nil {
		t.Fatal(err)
	}
	statuses := &statusRecorder{}
	confirmer := p.sdkClient(t, "acme", p.acme.Get("password"), append(opts, tpclient.WithHTTPClient(&http.Client{Transport: openapitest.Transport(t, statuses)}))...)
	var (
		wg        sync.WaitGroup
		confirmed tpclient.BookingInformation
		confirmEr error
	)
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ref := q.Get("trainingportalBookingReference")
		if ref == "" {
			ref = q.Get("bookingReference")
		}
		wg.Add(1)
		go func() { // still in flight when asked: the SDK waits out the 404 with Retry-After
			defer wg.Done()
			confirmed, confirmEr = confirmer.BookingInformation(ctx, ref)
		}()
		time.Sleep(50 * time.Millisecond) // let the confirmation arrive while the reserve call is in flight
		w.Write([]byte(`{"successful":true,"bookingReference":"PRV-1","errorMessage":""}`))
	}))
	t.Cleanup(provider.Close)
	reserve := provider.URL + "/reserve"
	if _, err := p.catalog.ChangeProvider(ctx, "acme", catalog.ProviderChange{ReserveURL: &reserve}); err != nil {
		t.Fatal(err)
	}
	acme, err := p.db.ProviderByUsername(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	classes, err := p.catalog.Classes(ctx, acme, "BST")
	if err != nil || len(classes) != 1 {
		t.Fatalf("classes %v, %v", classes, err)
	}
	b, err := p.bookings.Book(ctx, booking.Request{
		ClassID:  classes[0].ID,
		Student:  booking.Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.no", Phone: "4790000000"},
		Enroller: booking.Person{FirstName: "Ola", LastName: "Hansen", Email: "ola@example.no", Phone: "4791111111"},
		Company:  "Nordsjø AS", Comment: "Vegetarian lunch", PurchaseOrderNumber: "PO-77", StudentBirthDate: "1990-05-17",
	})
	if err != nil || b.State != booking.Reserved {
		t.Fatalf("Book = %+v, %v", b, err)
	}
	return b, func() (tpclient.BookingInformation, []int, error) {
		wg.Wait()
		return confirmed, statuses.seen(), confirmEr
	}
}

// statusRecorder is an HTTP transport that notes the status of every answer.
type statusRecorder struct {
	mu       sync.Mutex
	statuses []int
}

func (s *statusRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		s.mu.Lock()
		s.statuses = append(s.statuses, res.StatusCode)
		s.mu.Unlock()
	}
	return res, err
}

func (s *statusRecorder) seen() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.statuses...)
}

func TestSDKBookings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		for _, format := range sdkFormats {
			t.Run(format.name, func(t *testing.T) {
				p := newPortal(t, dialect)
				ctx := context.Background()
				c := p.sdkClient(t, "acme", p.acme.Get("password"), format.opts...)
				b, confirmation := sdkBooking(t, p, c, format.opts...)

				// Asked while the reserve call was in flight, the portal said 404 with
				// Retry-After; the SDK waited and asked again.
				confirmed, statuses, err := confirmation()
				if err != nil || confirmed.BookingReference != b.Reference {
					t.Errorf("confirmation during the reserve call = %+v, %v", confirmed, err)
				}
				if len(statuses) < 2 || statuses[0] != 404 || statuses[len(statuses)-1] != 200 {
					t.Errorf("confirmation answers %v, want 404 first and 200 last", statuses)
				}
				info, err := c.BookingInformation(ctx, b.Reference)
				if err != nil {
					t.Fatal(err)
				}
				want := tpclient.BookingInformation{
					BookingReference: b.Reference, ExternalCourseClassID: "BOOKME",
					FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.no", Phone: "4790000000", BirthDate: "1990-05-17",
					Enroller: tpclient.Person{FirstName: "Ola", LastName: "Hansen", Email: "ola@example.no", Phone: "4791111111"},
					Company:  "Nordsjø AS", EnrollmentStatus: "NEW", CommentOnEnrollment: "Vegetarian lunch", PurchaseOrderNumber: "PO-77",
				}
				// The fields SPEC §4 adds; checked once the server sends them.
				if info.ExternalCourseID != "" || info.ProviderBookingReference != "" {
					want.ExternalCourseID, want.ProviderBookingReference = "BST", "PRV-1"
				}
				if info != want {
					t.Errorf("BookingInformation =\n%+v\nwant\n%+v", info, want)
				}
				_, err = c.BookingInformation(ctx, "no_such_ref")
				wantAPIError(t, "unknown booking", err, tpclient.ErrNotFound, "")
				_, err = p.sdkClient(t, "other", p.other.Get("password"), format.opts...).BookingInformation(ctx, b.Reference)
				wantAPIError(t, "another provider's booking", err, tpclient.ErrForbidden, "")

				err = c.UpdateBookingStatus(ctx, b.Reference, tpclient.StatusCompleted, "")
				wantAPIError(t, "COMPLETED without a date", err, tpclient.ErrBadRequest, "completionDate")
				err = c.UpdateBookingStatus(ctx, b.Reference, "PASSED", "")
				wantAPIError(t, "unknown status", err, tpclient.ErrBadRequest, "newStatus")
				if err := c.UpdateBookingStatus(ctx, b.Reference, tpclient.StatusNoShow, ""); err != nil {
					t.Errorf("NO_SHOW: %v", err)
				}
				if info, err := c.BookingInformation(ctx, b.Reference); err != nil || info.EnrollmentStatus != "NO_SHOW" {
					t.Errorf("after NO_SHOW: %+v, %v", info.EnrollmentStatus, err)
				}

				pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
				res, err := c.UploadDocumentation(ctx, b.Reference, tpclient.Document{FileName: "certificate.pdf", Content: pdf})
				if err != nil || res.DocumentID == "" {
					t.Errorf("UploadDocumentation = %+v, %v", res, err)
				}
				_, err = c.UploadDocumentation(ctx, b.Reference, tpclient.Document{FileName: "notes.pdf", Content: []byte("just text"), Type: tpclient.DocumentOther})
				wantAPIError(t, "text named .pdf", err, tpclient.ErrBadRequest, "")
				docs, err := p.bookings.Documents(ctx, b)
				if err != nil || len(docs) != 1 || docs[0].FileName != "certificate.pdf" || docs[0].Type != "COURSE_CERTIFICATE" {
					t.Errorf("documents = %+v, %v", docs, err)
				}
			})
		}
	})
}
