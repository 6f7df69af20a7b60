package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/mail"
)

// Outbox is the mail outbox as the staff page reads it (store.DB).
type Outbox interface {
	// Outbox lists messages newest first, below beforeID (0: from the newest).
	Outbox(ctx context.Context, beforeID int64, limit int, unsentOnly bool) ([]booking.Notification, error)
	// Notification returns one message; errs.NotFound when there is none.
	Notification(ctx context.Context, id int64) (booking.Notification, error)
}

func init() {
	staffSections = append(staffSections, staffSection{Path: "/staff/outbox", Name: "Outbox",
		About: "the e-mails the portal sends, sent or waiting, with their calendar invitations"})
}

// outboxPageSize is how many messages one outbox page lists.
const outboxPageSize = 50

// outboxView is what staff_outbox.html shows.
type outboxView struct {
	Messages   []booking.Notification
	Delivers   bool   // an SMTP server is configured
	UnsentOnly bool   // only messages not yet sent
	Next       string // the link to the older messages, "" when none
}

// staffOutbox lists the outbox, newest first: what was sent, what waits and why.
func (p *Pages) staffOutbox(w http.ResponseWriter, r *http.Request, _ account.Account) {
	if p.cfg.Outbox == nil {
		p.fail(w, r, errs.E(errs.NotFound, "there is no page at %s", r.URL.Path))
		return
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	unsent := r.URL.Query().Get("unsent") == "1"
	ms, err := p.cfg.Outbox.Outbox(r.Context(), max(before, 0), outboxPageSize+1, unsent)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := outboxView{Delivers: p.cfg.MailDelivered, UnsentOnly: unsent}
	if len(ms) > outboxPageSize {
		ms = ms[:outboxPageSize]
		v.Next = "/staff/outbox?before=" + strconv.FormatInt(ms[len(ms)-1].ID, 10)
		if unsent {
			v.Next += "&unsent=1"
		}
	}
	v.Messages = ms
	p.render(w, r, http.StatusOK, "staff_outbox.html", "Outbox", v)
}

// staffOutboxMessage shows one message as its recipient gets it.
func (p *Pages) staffOutboxMessage(w http.ResponseWriter, r *http.Request, _ account.Account) {
	n, ok := p.outboxMessage(w, r)
	if !ok {
		return
	}
	p.render(w, r, http.StatusOK, "staff_outbox_message.html", n.Subject, struct {
		booking.Notification
		Delivers bool
	}{n, p.cfg.MailDelivered})
}

// staffOutboxCalendar sends a message's calendar attachment.
func (p *Pages) staffOutboxCalendar(w http.ResponseWriter, r *http.Request, _ account.Account) {
	n, ok := p.outboxMessage(w, r)
	if !ok {
		return
	}
	if n.Calendar == "" {
		p.fail(w, r, errs.E(errs.NotFound, "message %d has no calendar invitation", n.ID))
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+mail.CalendarFile+`"`)
	_, _ = w.Write([]byte(n.Calendar))
}

func (p *Pages) outboxMessage(w http.ResponseWriter, r *http.Request) (booking.Notification, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || p.cfg.Outbox == nil {
		p.fail(w, r, errs.E(errs.NotFound, "there is no page at %s", r.URL.Path))
		return booking.Notification{}, false
	}
	n, err := p.cfg.Outbox.Notification(r.Context(), id)
	if errs.Is(err, errs.NotFound) {
		err = errs.E(errs.NotFound, "the outbox has no message %d", id)
	}
	if err != nil {
		p.fail(w, r, err)
		return booking.Notification{}, false
	}
	return n, true
}
