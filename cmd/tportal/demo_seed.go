package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
)

// The demo's data. The catalogue is added at the gateway and reaches the portal by
// the gateway's catalogue push, as a real provider's would; future bookings are made
// through the portal's booking service, which calls the gateway's reserve URL.

// demoCourse is one course of the demo provider, at both ends.
type demoCourse struct{ id, name, description string }

var demoCourses = []demoCourse{
	{"BST", "Basic Safety Training", "GWO Basic Safety Training: first aid, manual handling, fire awareness, working at heights."},
	{"FF", "Fire Fighting", "Advanced fire fighting for offshore and onshore crews."},
	{"FA", "First Aid", "First aid at work: CPR, AED, bleeding, burns and shock."},
	{"WAH", "Working at Height", "Fall protection, rescue from height and the equipment for it."},
}

// demoVenue is a city the demo's classes run in.
type demoVenue struct{ city, address, zip, country, zone, currency, price string }

var demoVenues = []demoVenue{
	{"Oslo", "Karl Johans gate 1", "0154", "NO", "Europe/Oslo", "NOK", "12500.00"},
	{"Bergen", "Bryggen 1", "5003", "NO", "Europe/Oslo", "NOK", "11900.00"},
	{"Stavanger", "Strandkaien 12", "4005", "NO", "Europe/Oslo", "NOK", "12900.00"},
	{"Trondheim", "Munkegata 1", "7011", "NO", "Europe/Oslo", "NOK", "11500.00"},
	{"Aberdeen", "1 Union Street", "AB11 5BP", "GB", "Europe/London", "GBP", "950.00"},
}

const (
	// demoPastClass is the class that ran a month before the demo's first start; its
	// bookings are COMPLETED and have certificates.
	demoPastCourse, demoPastClass = "BST", "BGO-PAST"
	// demoTodayCourse has a class on the day of each start, so that a booking made in
	// step 1 can be marked COMPLETED today in step 4.
	demoTodayCourse = "FA"
)

// demoPastStudents attended the past class.
var demoPastStudents = []string{"Øyvind Ås", "Emma Solberg", "Jonas Bakken"}

// demoWorld is what seeding works on: both ends and the gateway's URLs.
type demoWorld struct {
	portal                *portal
	gateway               providerEnv
	reserveURL, cancelURL string
}

// demoSteps is what the demo prints.
type demoSteps struct {
	portalURL, gatewayURL         string
	portalData, providerData, cli string
	token, idempotencyKey         string
	password                      string // the demo provider's, at the course-provider API
	todayClass                    catalog.Class
	today                         string
	certificateURL                string
}

// seedDemo registers the gateway's URLs with the portal, seeds both ends when the
// gateway is empty (the first start), adds today's class when missing, and returns
// what to print.
func seedDemo(ctx context.Context, w demoWorld) (demoSteps, error) {
	var s demoSteps
	cat := w.portal.catalog
	if _, err := cat.ChangeProvider(ctx, demoUsername, catalog.ProviderChange{ReserveURL: &w.reserveURL, CancelURL: &w.cancelURL}); err != nil {
		return s, err
	}
	now := time.Now()
	// Every step of the seed is idempotent, so that a first start stopped while seeding
	// is completed by the next; once the past class has its completed bookings, the
	// seed is done and is not looked at again.
	done, err := w.gateway.sys.Bookings(ctx, gateway.BookingFilter{CourseID: demoPastCourse, ClassID: demoPastClass, Statuses: []gateway.Status{gateway.Completed}})
	if err != nil {
		return s, err
	}
	if len(done) < len(demoPastStudents) {
		if err := seedDemoCatalogue(ctx, w, now); err != nil {
			return s, err
		}
		if err := seedCompletedPastBookings(ctx, w); err != nil {
			return s, err
		}
	}
	s.today = now.In(mustZone("Europe/Oslo")).Format(time.DateOnly)
	if s.todayClass, err = ensureTodayClass(ctx, w, s.today); err != nil {
		return s, err
	}
	if s.certificateURL, err = pastCertificateURL(ctx, w); err != nil {
		return s, err
	}
	accounts := &account.Service{Store: w.portal.db, Passwords: &auth.Passwords{}}
	if _, err := accounts.AddStaff(ctx, "Demo", "Staff", demoStaffEmail, demoStaffPassword); err != nil && !errs.Is(err, errs.Conflict) {
		return s, err
	}
	if _, err := w.portal.db.AccountByEmail(ctx, demoEnrollerEmail); errs.Is(err, errs.NotFound) { // a restart keeps it
		if _, err := accounts.SignUp(ctx, account.SignUp{Company: demoEnrollerCompany, FirstName: "Ola", LastName: "Hansen",
			Email: demoEnrollerEmail, Password: demoEnrollerPassword}); err != nil {
			return s, err
		}
	} else if err != nil {
		return s, err
	}
	token, hash := auth.NewToken()
	if _, err := w.portal.db.CreateToken(ctx, "demo "+now.UTC().Format(time.RFC3339Nano), hash, nil); err != nil {
		return s, err
	}
	s.token, s.idempotencyKey = token, fmt.Sprintf("demo-%d", now.UnixNano())
	return s, nil
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is linked in
	}
	return loc
}

func ptr[T any](v T) *T { return &v }

// demoClassFields are the fields of a class at venue v from start to end (dates).
func demoClassFields(v demoVenue, seats int, start, end time.Time, startClock, endClock string) gateway.ClassFields {
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	return gateway.ClassFields{
		Location: ptr(v.city), Seats: ptr(seats),
		Start: ptr(day(start) + "T" + startClock), End: ptr(day(end) + "T" + endClock), TimeZone: ptr(v.zone),
		EnrollmentDeadline: ptr(day(start.AddDate(0, 0, -7))), CancellationDeadline: ptr(day(start.AddDate(0, 0, -3))),
		Amount: ptr(v.price), Currency: ptr(v.currency),
		AddressLine1: ptr(v.address), City: ptr(v.city), ZipCode: ptr(v.zip), Country: ptr(v.country),
	}
}

// seedDemoCatalogue adds the courses and the coming months' classes at the gateway,
// waits until the portal has them, and books most seats of a few classes through the
// portal, so that they show as nearly full.
func seedDemoCatalogue(ctx context.Context, w demoWorld, now time.Time) error {
	sys := w.gateway.sys
	for _, c := range demoCourses {
		if _, err := sys.AddCourse(ctx, c.id, c.name); err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
	}
	type seeded struct{ course, class string }
	var nearlyFull []seeded
	var all []seeded
	for i := range 12 {
		course, venue := demoCourses[i%len(demoCourses)], demoVenues[i%len(demoVenues)]
		start := now.AddDate(0, 0, 14+9*i)
		id := fmt.Sprintf("%s-%s", strings.ToUpper(venue.city[:3]), start.Format("0601-02"))
		seats := 12
		if i%3 == 1 {
			seats = 6
			nearlyFull = append(nearlyFull, seeded{course.id, id})
		}
		if _, err := sys.AddClass(ctx, course.id, id, demoClassFields(venue, seats, start, start.AddDate(0, 0, 1+i%2), "08:30", "16:00")); err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
		all = append(all, seeded{course.id, id})
	}
	past := now.AddDate(0, -1, 0)
	if _, err := sys.AddClass(ctx, demoPastCourse, demoPastClass, demoClassFields(demoVenues[1], 12, past, past.AddDate(0, 0, 1), "08:30", "16:00")); err != nil && !errs.Is(err, errs.Conflict) {
		return err
	}
	all = append(all, seeded{demoPastCourse, demoPastClass})
	for _, c := range all {
		if _, err := waitForPortalClass(ctx, w, c.course, c.class); err != nil {
			return err
		}
	}
	for _, c := range nearlyFull {
		class, err := waitForPortalClass(ctx, w, c.course, c.class)
		if err != nil {
			return err
		}
		for i, name := range []string{"Ingrid Berg", "Lars Haugen", "Sofie Dahl", "Magnus Lie", "Nora Moen"} {
			first, last, _ := strings.Cut(name, " ")
			// The idempotency key makes a repeated seed get the booking made before.
			_, err := w.portal.bookings.Book(ctx, booking.Request{ClassID: class.ID,
				Student:  booking.Person{FirstName: first, LastName: last, Email: fmt.Sprintf("%s.%s@example.no", strings.ToLower(first), strings.ToLower(last))},
				Enroller: booking.Person{FirstName: "Ola", LastName: "Hansen", Email: "ola@acme-industri.no"},
				Company:  "Acme Industri AS", IdempotencyKey: fmt.Sprintf("demo-seed-%s-%s-%d", c.course, c.class, i)})
			if err != nil {
				return fmt.Errorf("booking %s on %s: %w", name, c.class, err)
			}
		}
	}
	return nil
}

// seedCompletedPastBookings stores bookings on the past class at both ends directly,
// since the portal rightly refuses bookings on a class whose enrollment has closed,
// then records them COMPLETED at the gateway: the normal outcome path reports that to
// the portal with a certificate.
func seedCompletedPastBookings(ctx context.Context, w demoWorld) error {
	class, err := waitForPortalClass(ctx, w, demoPastCourse, demoPastClass)
	if err != nil {
		return err
	}
	gwClass, err := w.gateway.sys.Class(ctx, demoPastCourse, demoPastClass)
	if err != nil {
		return err
	}
	enroller := gateway.Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@nordsjo-drilling.no"}
	held, err := w.gateway.sys.Bookings(ctx, gateway.BookingFilter{CourseID: demoPastCourse, ClassID: demoPastClass})
	if err != nil {
		return err
	}
	for _, name := range demoPastStudents[len(held):] {
		first, last, _ := strings.Cut(name, " ")
		student := gateway.Person{FirstName: first, LastName: last, Email: strings.ToLower(last) + "@nordsjo-drilling.no"}
		portalRef := booking.NewReference()
		b, _, err := w.gateway.db.HoldSeat(ctx, gateway.ReserveRequest{CourseID: demoPastCourse, ClassID: demoPastClass,
			PortalReference: portalRef, Student: student, Enroller: enroller, Company: "Nordsjø Drilling AS"},
			func(*gateway.Class) error { return nil })
		if err != nil {
			return err
		}
		at := time.Now()
		pb := booking.Booking{Reference: portalRef, ClassID: class.ID, State: booking.Reserved, ProviderReference: b.Reference,
			Student:  booking.Person{FirstName: first, LastName: last, Email: student.Email},
			Enroller: booking.Person{FirstName: enroller.FirstName, LastName: enroller.LastName, Email: enroller.Email},
			Company:  "Nordsjø Drilling AS", CreatedAt: at, UpdatedAt: at}
		if err := w.portal.db.CreateBooking(ctx, &pb, func(catalog.Class) error { return nil }); err != nil {
			return err
		}
		held = append(held, b)
	}
	for _, b := range held {
		ref := b.Reference
		// The gateway's confirmation job confirms each hold with the portal.
		var status gateway.Status
		if err := waitFor(ctx, "the gateway confirms booking "+ref, func() (bool, error) {
			b, err := w.gateway.sys.Booking(ctx, ref)
			status = b.Status
			return status == gateway.Confirmed || status == gateway.Completed, err
		}); err != nil {
			return err
		}
		if status == gateway.Completed {
			continue
		}
		if _, err := w.gateway.sys.RecordAttendance(ctx, ref, gateway.Completed, gwClass.EndDate); err != nil {
			return err
		}
	}
	_, err = pastCertificateURL(ctx, w)
	return err
}

// pastCertificateURL waits for a certificate of a completed booking on the past
// class at the portal and returns its download path.
func pastCertificateURL(ctx context.Context, w demoWorld) (string, error) {
	class, err := waitForPortalClass(ctx, w, demoPastCourse, demoPastClass)
	if err != nil {
		return "", err
	}
	var path string
	err = waitFor(ctx, "a certificate of the past class at the portal", func() (bool, error) {
		page, err := w.portal.bookings.List(ctx, booking.ListQuery{ClassID: class.ID, States: []booking.State{booking.Completed}})
		if err != nil {
			return false, err
		}
		for _, b := range page.Bookings {
			docs, err := w.portal.bookings.Documents(ctx, b)
			if err != nil {
				return false, err
			}
			if len(docs) > 0 {
				path = fmt.Sprintf("/api/v1/bookings/%s/documents/%d", b.Reference, docs[0].ID)
				return true, nil
			}
		}
		return false, nil
	})
	return path, err
}

// ensureTodayClass adds a class of demoTodayCourse running today in Oslo unless it
// exists, and returns it as the portal has it.
func ensureTodayClass(ctx context.Context, w demoWorld, today string) (catalog.Class, error) {
	id := "OSL-" + today
	_, err := w.gateway.sys.Class(ctx, demoTodayCourse, id)
	if errs.Is(err, errs.NotFound) {
		day, _ := time.ParseInLocation(time.DateOnly, today, mustZone("Europe/Oslo"))
		f := demoClassFields(demoVenues[0], 40, day, day, "08:00", "23:30")
		f.EnrollmentDeadline, f.CancellationDeadline = &today, &today
		_, err = w.gateway.sys.AddClass(ctx, demoTodayCourse, id, f)
	}
	if err != nil {
		return catalog.Class{}, err
	}
	return waitForPortalClass(ctx, w, demoTodayCourse, id)
}

// waitForPortalClass waits until the gateway's catalogue push has brought the class
// to the portal, and returns it.
func waitForPortalClass(ctx context.Context, w demoWorld, course, id string) (catalog.Class, error) {
	var found catalog.Class
	err := waitFor(ctx, fmt.Sprintf("class %s/%s at the portal", course, id), func() (bool, error) {
		p, err := w.portal.db.ProviderByUsername(ctx, demoUsername)
		if err != nil {
			return false, err
		}
		classes, err := w.portal.catalog.Classes(ctx, p, course)
		if err != nil {
			return false, err
		}
		for _, c := range classes {
			if c.ExternalID == id {
				found = c
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

// waitFor polls cond until it holds, fails, or a minute passes.
func waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(time.Minute)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited a minute for %s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// print writes the steps to try, in order; every command works when pasted.
func (s demoSteps) print(w io.Writer) {
	authHeader := "-H " + shellQuote("Authorization: Bearer "+s.token)
	provider := s.cli + " provider"
	data := "--data " + shellQuote(s.providerData)
	body := fmt.Sprintf(`{"classId": %d, "student": {"firstName": "Kari", "lastName": "Nordmann", "email": "kari@example.no"}, `+
		`"enroller": {"firstName": "Ola", "lastName": "Hansen", "email": "ola@acme-industri.no"}, "company": "Acme Industri AS"}`, s.todayClass.ID)
	fmt.Fprintf(w, `tportal demo: the portal runs on %[1]s; the provider gateway of %[15]q on %[2]s.

Open %[1]s/ in a browser: the portal's pages, with the seeded classes. Then try, in order:

1) Book a seat on today's First Aid class in Oslo (the answer is RESERVED; note its
   bookingReference and providerBookingReference):
  curl -s -X POST %[1]s/api/v1/bookings %[3]s -H 'Content-Type: application/json' -H 'Idempotency-Key: %[4]s' -d %[5]s

2) Watch the provider confirm it (its STATUS turns CONFIRMED within a second or two):
  %[6]s booking list %[7]s --course %[8]s --class %[9]s

3) Change the class's seats at the provider and see the portal follow (availableSeats
   becomes 45 less the seats booked):
  %[6]s class update %[7]s --course %[8]s --external-id %[9]s --seats 45
  curl -s '%[1]s/api/v1/classes?course=%[10]d&from=%[11]s&to=%[11]s' %[3]s

4) Mark attendance: REF is the providerBookingReference of step 1's answer (the REFERENCE
   column of step 2). The portal's booking turns COMPLETED, with a certificate to download:
  %[6]s attendance %[7]s --booking REF --status COMPLETED --date %[11]s

5) Download the certificate of a class that ran last month:
  curl -s -o certificate.pdf %[1]s%[12]s %[3]s

The portal's admin commands take --data %[13]s, e.g.
  %[14]s admin token list --data %[13]s
The provider's commands take %[7]s, e.g.
  %[6]s class list %[7]s
The gateway's account at the course-provider API (docs/api.md), new at every start:
  username: %[16]s
  password: %[17]s
To book in the browser as an enroller of %[20]s (or sign your own company up at
%[1]s/signup), sign in at %[1]s/signin:
  e-mail:   %[21]s
  password: %[22]s
Portal staff sign in there too, then open %[1]s/staff (dashboard, bookings and their history,
the call journal, the e-mail outbox, providers, courses):
  e-mail:   %[18]s
  password: %[19]s

Press Ctrl-C to stop.
`, s.portalURL, s.gatewayURL, authHeader, s.idempotencyKey, shellQuote(body), provider, data, s.todayClass.CourseExternalID,
		s.todayClass.ExternalID, s.todayClass.CourseID, s.today, s.certificateURL, shellQuote(s.portalData), s.cli, demoProviderName, demoUsername, s.password,
		demoStaffEmail, demoStaffPassword, demoEnrollerCompany, demoEnrollerEmail, demoEnrollerPassword)
}
