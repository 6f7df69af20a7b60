package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/mail"
)

// Outbox is the mail outbox as the staff pages read one message (store.DB); the list
// comes from Staff.ListNotifications.
type Outbox interface {
	// Notification returns one message; errs.NotFound when there is none.
	Notification(ctx context.Context, id int64) (booking.Notification, error)
}

func init() {
	staffSections = append(staffSections, staffSection{Path: "/staff/outbox", Name: "Outbox",
		About: "the e-mails the portal sends, sent or waiting, by recipient and kind, with their calendar invitations"})
}

// outboxView is what staff_outbox.html shows: the filter form, a page of messages
// and the link to the next.
type outboxView struct {
	Form     url.Values
	Problem  string
	Kinds    []option
	Messages []booking.ListedNotification
	Delivers bool   // an SMTP server is configured
	Next     string // the link to the older messages, "" when none
}

// staffOutbox lists the outbox, newest first, by recipient (part of the address),
// kind and whether sent: what was sent, what waits and why. It only reads: sending
// is the job queue's.
func (p *Pages) staffOutbox(w http.ResponseWriter, r *http.Request, _ account.Account) {
	if p.cfg.Outbox == nil {
		p.fail(w, r, errs.E(errs.NotFound, "there is no page at %s", r.URL.Path))
		return
	}
	form := r.URL.Query()
	v := outboxView{Form: form, Delivers: p.cfg.MailDelivered}
	kinds, err := p.cfg.Staff.NotificationKinds(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	for _, k := range kinds {
		v.Kinds = append(v.Kinds, option{Value: k, Label: k, Selected: form.Get("kind") == k})
	}
	f := booking.NotificationFilter{Recipient: strings.TrimSpace(form.Get("recipient")), Kind: form.Get("kind"), Unsent: form.Get("unsent") != ""}
	var problems []string
	f.BeforeID, problems = idParam(form, "before", "Page", problems)
	if len(problems) > 0 {
		v.Problem = strings.Join(problems, " ")
		p.render(w, r, http.StatusBadRequest, "staff_outbox.html", "Outbox", v)
		return
	}
	f.Limit = staffPageSize + 1
	ms, err := p.cfg.Staff.ListNotifications(r.Context(), f)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if len(ms) > staffPageSize {
		ms = ms[:staffPageSize]
		v.Next = nextPage(r, ms[len(ms)-1].ID)
	}
	v.Messages = ms
	p.render(w, r, http.StatusOK, "staff_outbox.html", "Outbox", v)
}

// staffNotifications answers the old address of the outbox list, from before the
// notifications page and the outbox were one page, with a permanent redirect that
// keeps the filters.
func (p *Pages) staffNotifications(w http.ResponseWriter, r *http.Request) {
	to := "/staff/outbox"
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, to, http.StatusMovedPermanently)
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
