package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
)

func init() {
	staffSections = append(staffSections,
		staffSection{Path: "/staff/notifications", Name: "Notifications", About: "the messages the portal made for people about their bookings, sent or not"})
}

// staffNotificationsView is the filter form, a page of notifications and the next page.
type staffNotificationsView struct {
	Form          url.Values
	Problem       string
	Kinds         []option
	Notifications []booking.ListedNotification
	Next          string
}

// staffNotifications lists notifications, newest first, by recipient, kind and
// whether they are sent. It only reads the table: sending is the outbox's job.
func (p *Pages) staffNotifications(w http.ResponseWriter, r *http.Request, _ account.Account) {
	form := r.URL.Query()
	v := staffNotificationsView{Form: form}
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
		p.render(w, r, http.StatusBadRequest, "staff_notifications.html", "Notifications", v)
		return
	}
	f.Limit = staffPageSize + 1
	ns, err := p.cfg.Staff.ListNotifications(r.Context(), f)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if len(ns) > staffPageSize {
		ns = ns[:staffPageSize]
		v.Next = nextPage(r, ns[len(ns)-1].ID)
	}
	v.Notifications = ns
	p.render(w, r, http.StatusOK, "staff_notifications.html", "Notifications", v)
}
