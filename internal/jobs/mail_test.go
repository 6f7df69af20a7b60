package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/jobs"
	"github.com/tportal/tportal/internal/mail"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// flakySender fails its first failures calls, then records what it delivers.
type flakySender struct {
	mu        sync.Mutex
	failures  int
	calls     int
	delivered map[int64]int // notification ID -> times delivered
	done      chan struct{} // gets a value per delivery
}

func newFlakySender(failures int) *flakySender {
	return &flakySender{failures: failures, delivered: map[int64]int{}, done: make(chan struct{}, 100)}
}

func (s *flakySender) Send(_ context.Context, n booking.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= s.failures {
		return errors.New("421 service not available")
	}
	s.delivered[n.ID]++
	s.done <- struct{}{}
	return nil
}

// Messages scheduled by a process that stops before sending them are delivered by the
// next one, failures are retried, each message is delivered once, and a message stored
// with no job (no SMTP server then) is found by the scan.
func TestMailSurvivesRestartAndRetries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		dbURL := storetest.URL(t, dialect)
		db, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		opts := func(db *store.DB, s jobs.Sender) jobs.Options {
			return jobs.Options{ScanEvery: time.Hour, PollEvery: 100 * time.Millisecond, Logger: quiet,
				Mail: &jobs.MailOptions{Outbox: db, Sender: s, RetryBase: 50 * time.Millisecond, RetryMax: 100 * time.Millisecond}}
		}
		now := time.Now()
		msg := func(to string) booking.Notification {
			return booking.Notification{Kind: "password_reset", To: to, Subject: "Reset", Body: "link", CreatedAt: now}
		}

		// Stored while no SMTP server was configured: no job.
		early := []booking.Notification{msg("early@acme.example")}
		if err := db.CreateNotifications(ctx, early); err != nil {
			t.Fatal(err)
		}
		// The first process schedules two messages in the transaction that stores them,
		// and stops without sending.
		first, err := jobs.New(ctx, db.SQL(), db.Dialect(), bookingService(db), &catalog.Service{Store: db}, opts(db, newFlakySender(0)))
		if err != nil {
			t.Fatal(err)
		}
		db.SetMailQueue(first.EnqueueMailTx)
		ns := []booking.Notification{msg("a@acme.example"), msg("b@acme.example")}
		if err := db.CreateNotifications(ctx, ns); err != nil {
			t.Fatal(err)
		}
		db.Close()

		db2, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		sender := newFlakySender(2)
		second, err := jobs.New(ctx, db2.SQL(), db2.Dialect(), bookingService(db2), &catalog.Service{Store: db2}, opts(db2, sender))
		if err != nil {
			t.Fatal(err)
		}
		if err := second.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer second.Stop(ctx)
		for i := range 3 {
			select {
			case <-sender.done:
			case <-time.After(20 * time.Second):
				t.Fatalf("%d of 3 messages delivered within 20 s", i)
			}
		}
		ids := []int64{early[0].ID, ns[0].ID, ns[1].ID}
		deadline := time.Now().Add(5 * time.Second)
		for _, id := range ids {
			for {
				n, err := db2.Notification(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if n.SentAt != nil {
					if n.LastError != "" {
						t.Errorf("message %d sent, but keeps the error %q", id, n.LastError)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("message %d delivered but not marked sent", id)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		second.Stop(ctx)
		sender.mu.Lock()
		defer sender.mu.Unlock()
		for _, id := range ids {
			if sender.delivered[id] != 1 {
				t.Errorf("message %d delivered %d times, want once", id, sender.delivered[id])
			}
		}
		if sender.calls != 5 {
			t.Errorf("%d send calls, want 5 (two failures, three deliveries)", sender.calls)
		}
		var attempts int
		for _, id := range ids {
			n, _ := db2.Notification(ctx, id)
			attempts += n.Attempts
		}
		if attempts != 2 {
			t.Errorf("%d failed attempts recorded, want 2", attempts)
		}
	})
}

// Without an SMTP server nothing is scheduled: the messages wait in the outbox.
func TestNoSenderLeavesTheOutbox(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	r, err := jobs.New(ctx, db.SQL(), db.Dialect(), bookingService(db), &catalog.Service{Store: db},
		jobs.Options{ScanEvery: time.Hour, PollEvery: 100 * time.Millisecond, Logger: quiet, Mail: &jobs.MailOptions{Outbox: db}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Delivers() {
		t.Fatal("Delivers() without a sender")
	}
	db.SetMailQueue(r.EnqueueMailTx)
	ns := []booking.Notification{{Kind: "password_reset", To: "a@acme.example", CreatedAt: time.Now()}}
	if err := db.CreateNotifications(ctx, ns); err != nil {
		t.Fatal(err)
	}
	var jobsCount int
	if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'tportal.mail'`).Scan(&jobsCount); err != nil {
		t.Fatal(err)
	}
	if jobsCount != 0 {
		t.Errorf("%d mail jobs without a sender, want 0", jobsCount)
	}
	if ids, _ := db.UnsentNotifications(ctx, 10, 10); len(ids) != 1 {
		t.Errorf("unsent = %v, want the message", ids)
	}
}

// A provider's cancel of a class schedules its mails' delivery jobs in the class
// change's own transaction, and they are delivered.
func TestClassMailsScheduledInTheClassChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		bs := bookingService(db)
		bs.Mail = &mail.Composer{From: "noreply@portal.example"}
		cat := &catalog.Service{Store: db, DefaultZone: "Europe/Oslo", ClassCancelled: bs.NotifyClassCancelled}
		sender := newFlakySender(0)
		r, err := jobs.New(ctx, db.SQL(), db.Dialect(), bs, cat, jobs.Options{ScanEvery: time.Hour, PollEvery: 100 * time.Millisecond,
			Logger: quiet, Mail: &jobs.MailOptions{Outbox: db, Sender: sender}})
		if err != nil {
			t.Fatal(err)
		}
		db.SetMailQueue(r.EnqueueMailTx)

		p := catalog.Provider{Name: "Acme", Username: "acme", PasswordHash: "x", CreatedAt: time.Now()}
		if err := db.CreateProvider(ctx, &p); err != nil {
			t.Fatal(err)
		}
		co := catalog.Course{ProviderID: p.ID, ExternalID: "BST", Name: "Basic Safety", CreatedAt: time.Now()}
		if err := db.CreateCourse(ctx, &co); err != nil {
			t.Fatal(err)
		}
		day := func(n int) *string { s := catalog.DateOf(time.Now().AddDate(0, 0, n)).String(); return &s }
		str := func(s string) *string { return &s }
		c, err := cat.AddClass(ctx, p, co.ExternalID, catalog.ClassFields{ExternalID: str("W40"), Location: str("Oslo"),
			AvailableSeats: str("5"), EnrollmentDeadline: day(20), CancellationDeadline: day(25), StartDate: day(30), EndDate: day(30),
			AddressLine1: str("Street 1"), City: str("Oslo"), ZipCode: str("0150"), Country: str("NO"), Currency: str("NOK"), Amount: str("100")})
		if err != nil {
			t.Fatal(err)
		}
		b := booking.Booking{Reference: "TP-1", ClassID: c.ID, State: booking.Reserved, CreatedAt: time.Now(), UpdatedAt: time.Now(),
			Enroller: booking.Person{Email: "kari@acme.example"}}
		if err := db.CreateBooking(ctx, &b, func(catalog.Class) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := cat.CancelClass(ctx, p, co.ExternalID, "W40"); err != nil {
			t.Fatal(err)
		}
		var jobsCount int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'tportal.mail'`).Scan(&jobsCount); err != nil {
			t.Fatal(err)
		}
		if jobsCount != 1 {
			t.Fatalf("%d mail jobs after the class was cancelled, want 1 (the enroller's)", jobsCount)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer r.Stop(ctx)
		select {
		case <-sender.done:
		case <-time.After(20 * time.Second):
			t.Fatal("the class's mail was not delivered within 20 s")
		}
		ns, err := db.Notifications(ctx, b.ID)
		if err != nil || len(ns) != 1 || ns[0].Kind != mail.KindClassCancelled {
			t.Fatalf("booking's mails = %+v, %v; want one class_cancelled", ns, err)
		}
	})
}
