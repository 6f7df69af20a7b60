package booking_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/mail"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// sent is one outbox message in short: kind, recipient, and its calendar's METHOD and
// LOCATION ("" when it has none); seq is its SEQUENCE (-1 when it has no calendar).
type sent struct {
	kind, to, method, location string
	seq                        int
}

func outboxOf(t *testing.T, e *env, bookingID int64) []sent {
	t.Helper()
	ns, err := e.db.Notifications(context.Background(), bookingID)
	noErr(t, err, "Notifications")
	var out []sent
	for _, n := range ns {
		s := sent{kind: n.Kind, to: n.To, seq: -1}
		if n.Calendar != "" {
			cal, err := ics.ParseCalendar(strings.NewReader(n.Calendar))
			noErr(t, err, "parse calendar")
			for _, p := range cal.CalendarProperties {
				if p.IANAToken == string(ics.PropertyMethod) {
					s.method = p.Value
				}
			}
			ev := cal.Events()[0]
			s.seq = 0
			if p := ev.GetProperty(ics.ComponentPropertySequence); p != nil {
				s.seq, err = strconv.Atoi(p.Value)
				noErr(t, err, "SEQUENCE")
			}
			if p := ev.GetProperty(ics.ComponentPropertyLocation); p != nil {
				s.location = p.Value
			}
		}
		out = append(out, s)
	}
	return out
}

func checkOutbox(t *testing.T, step string, got, want []sent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: outbox %+v, want %+v", step, got, want)
	}
	last := -1
	for i := range want {
		g := got[i]
		if g.seq >= 0 {
			// Each version of the calendar entry comes after the one before.
			if last >= 0 && g.seq <= last {
				t.Errorf("%s: message %d has SEQUENCE %d, not above the earlier %d", step, i, g.seq, last)
			}
			last = g.seq
		}
		g.seq = want[i].seq
		if g != want[i] {
			t.Errorf("%s: message %d = %+v, want %+v", step, i, got[i], want[i])
		}
	}
}

// The mails of a booking's life, each added to the outbox with the change that
// causes it: the confirmation with the student's invitation, an update when the
// provider moves the class (not when it changes only the price), the invitation
// withdrawn when the booking is cancelled; and none of the calendar parts for a
// class that does not send schedule information.
func TestBookingMails(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		fp.onReserve(succeeding())
		fp.onCancel(jsonAnswer(`{"cancelled":true}`))
		p, co := e.addProvider(t, "acme", fp)
		const enroller, student = "kari@example.com", "ola@example.com"

		t.Run("with schedule information", func(t *testing.T) {
			f := classFields("S1", 5)
			f.SendScheduleInfo = ptr("true")
			c, err := e.cat.AddClass(ctx, p, co.ExternalID, f)
			noErr(t, err, "AddClass")
			b := mustBook(t, e, c.ID, "Ola")
			checkOutbox(t, "booked", outboxOf(t, e, b.ID), []sent{
				{kind: mail.KindBooked, to: enroller, method: "", location: ""},
				{kind: mail.KindBooked, to: student, method: "REQUEST", location: "Oslo, Street 1, 0150 Oslo, NO"},
			})

			e.clock.Advance(time.Minute)
			_, err = e.cat.UpdateClass(ctx, p, co.ExternalID, catalog.ClassFields{ExternalID: ptr("S1"), Amount: ptr("1200")})
			noErr(t, err, "UpdateClass price")
			if got := outboxOf(t, e, b.ID); len(got) != 2 {
				t.Errorf("a price change sent mail: %+v", got[2:])
			}
			_, err = e.cat.UpdateClass(ctx, p, co.ExternalID, catalog.ClassFields{ExternalID: ptr("S1"), Location: ptr("Bergen")})
			noErr(t, err, "UpdateClass location")
			e.clock.Advance(time.Minute)
			_, err = e.svc.Cancel(ctx, b.Reference)
			noErr(t, err, "Cancel")
			checkOutbox(t, "moved and cancelled", outboxOf(t, e, b.ID), []sent{
				{kind: mail.KindBooked, to: enroller, method: "", location: ""},
				{kind: mail.KindBooked, to: student, method: "REQUEST", location: "Oslo, Street 1, 0150 Oslo, NO"},
				{kind: mail.KindScheduleChanged, to: enroller, method: "", location: ""},
				{kind: mail.KindScheduleChanged, to: student, method: "REQUEST", location: "Bergen, Street 1, 0150 Oslo, NO"},
				{kind: mail.KindCancelled, to: enroller, method: "", location: ""},
				{kind: mail.KindCancelled, to: student, method: "CANCEL", location: "Bergen, Street 1, 0150 Oslo, NO"},
			})
		})

		t.Run("class cancelled and restored by the provider", func(t *testing.T) {
			f := classFields("CR1", 5)
			c, err := e.cat.AddClass(ctx, p, co.ExternalID, f)
			noErr(t, err, "AddClass")
			b := mustBook(t, e, c.ID, "Ola")
			e.clock.Advance(time.Minute)
			_, err = e.cat.CancelClass(ctx, p, co.ExternalID, "CR1")
			noErr(t, err, "CancelClass")
			e.clock.Advance(time.Minute)
			_, err = e.cat.RestoreClass(ctx, p, co.ExternalID, "CR1")
			noErr(t, err, "RestoreClass")
			checkOutbox(t, "cancelled and restored", outboxOf(t, e, b.ID), []sent{
				{kind: mail.KindBooked, to: enroller},
				{kind: mail.KindBooked, to: student, method: "REQUEST", location: "Oslo, Street 1, 0150 Oslo, NO"},
				{kind: mail.KindClassCancelled, to: enroller},
				{kind: mail.KindClassCancelled, to: student, method: "CANCEL", location: "Oslo, Street 1, 0150 Oslo, NO"},
				{kind: mail.KindClassRestored, to: enroller},
				{kind: mail.KindClassRestored, to: student, method: "REQUEST", location: "Oslo, Street 1, 0150 Oslo, NO"},
			})
		})

		t.Run("without schedule information", func(t *testing.T) {
			f := classFields("N1", 5)
			f.SendScheduleInfo = ptr("false")
			c, err := e.cat.AddClass(ctx, p, co.ExternalID, f)
			noErr(t, err, "AddClass")
			b := mustBook(t, e, c.ID, "Ola")
			_, err = e.cat.UpdateClass(ctx, p, co.ExternalID, catalog.ClassFields{ExternalID: ptr("N1"), Amount: ptr("1200"), AvailableSeats: ptr("9")})
			noErr(t, err, "UpdateClass price and seats")
			_, err = e.cat.UpdateClass(ctx, p, co.ExternalID, catalog.ClassFields{ExternalID: ptr("N1"), Location: ptr("Bergen")})
			noErr(t, err, "UpdateClass location")
			// The enroller hears of the new schedule; the student, who got no
			// invitation, gets no update.
			checkOutbox(t, "booked and moved", outboxOf(t, e, b.ID), []sent{
				{kind: mail.KindBooked, to: enroller, method: "", location: ""},
				{kind: mail.KindBooked, to: student, method: "", location: ""},
				{kind: mail.KindScheduleChanged, to: enroller, method: "", location: ""},
			})
		})

		t.Run("a refused booking sends nothing", func(t *testing.T) {
			c := e.addClass(t, p, co, "R1", 5)
			fp.onReserve(jsonAnswer(`{"successful":false,"errorMessage":"Full"}`))
			defer fp.onReserve(succeeding())
			b, _ := e.svc.Book(ctx, request(c.ID, "Per"))
			if b.State != booking.Rejected {
				t.Fatalf("state %s, want REJECTED", b.State)
			}
			checkOutbox(t, "refused", outboxOf(t, e, b.ID), nil)
		})
	})
}

// A provider's change of a class and the mails it sends commit together: when the
// outbox cannot take the mails the change is rolled back (and the provider gets the
// error, to send it again), and a change that commits has its mails.
func TestClassMailsCommitWithTheChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		fp.onReserve(succeeding())
		p, co := e.addProvider(t, "acme", fp)
		f := classFields("D1", 5)
		f.SendScheduleInfo = ptr("true")
		c, err := e.cat.AddClass(ctx, p, co.ExternalID, f)
		noErr(t, err, "AddClass")
		b := mustBook(t, e, c.ID, "Ola")
		const enroller, student = "kari@example.com", "ola@example.com"
		var kinds []string // the kinds of the booking's mails so far, one per recipient
		for range 2 {
			kinds = append(kinds, mail.KindBooked)
		}
		down := func(context.Context, *sql.Tx, []int64) error { return errors.New("outbox down") }

		for _, step := range []struct {
			name   string
			queue  store.MailQueue
			change func() error
			commit bool
			kind   string // the mails' kind when the change commits
			// changed tells whether the class is as the change leaves it.
			changed func(catalog.Class) bool
		}{
			{"update, outbox failing", down, func() error {
				_, err := e.cat.UpdateClass(ctx, p, co.ExternalID, catalog.ClassFields{ExternalID: ptr("D1"), Location: ptr("Bergen")})
				return err
			}, false, "", func(c catalog.Class) bool { return c.Location == "Bergen" }},
			{"cancel, outbox failing", down, func() error {
				_, err := e.cat.CancelClass(ctx, p, co.ExternalID, "D1")
				return err
			}, false, "", func(c catalog.Class) bool { return c.Cancelled() }},
			{"cancel", nil, func() error {
				_, err := e.cat.CancelClass(ctx, p, co.ExternalID, "D1")
				return err
			}, true, mail.KindClassCancelled, func(c catalog.Class) bool { return c.Cancelled() }},
			{"restore, outbox failing", down, func() error {
				_, err := e.cat.RestoreClass(ctx, p, co.ExternalID, "D1")
				return err
			}, false, "", func(c catalog.Class) bool { return !c.Cancelled() }},
			{"restore", nil, func() error {
				_, err := e.cat.RestoreClass(ctx, p, co.ExternalID, "D1")
				return err
			}, true, mail.KindClassRestored, func(c catalog.Class) bool { return !c.Cancelled() }},
			{"update", nil, func() error {
				_, err := e.cat.UpdateClass(ctx, p, co.ExternalID, catalog.ClassFields{ExternalID: ptr("D1"), Location: ptr("Bergen")})
				return err
			}, true, mail.KindScheduleChanged, func(c catalog.Class) bool { return c.Location == "Bergen" }},
		} {
			e.db.SetMailQueue(step.queue)
			err := step.change()
			e.db.SetMailQueue(nil)
			if (err == nil) != step.commit {
				t.Fatalf("%s: err = %v, want committed %v", step.name, err, step.commit)
			}
			got, err := e.db.ClassByID(ctx, c.ID)
			noErr(t, err, "ClassByID")
			if step.changed(got) != step.commit {
				t.Errorf("%s: class changed %v, want %v (%+v)", step.name, !step.commit, step.commit, got)
			}
			if step.commit {
				kinds = append(kinds, step.kind, step.kind)
			}
			var have []string
			for _, n := range outboxOf(t, e, b.ID) {
				have = append(have, n.kind)
				if n.to != enroller && n.to != student {
					t.Errorf("%s: mail to %s", step.name, n.to)
				}
			}
			if !slices.Equal(have, kinds) {
				t.Errorf("%s: outbox %v, want %v", step.name, have, kinds)
			}
		}
	})
}
