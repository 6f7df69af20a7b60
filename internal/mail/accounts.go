package mail

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
)

// Outbox keeps messages until they are sent (store.DB).
type Outbox interface {
	CreateNotifications(ctx context.Context, ns []booking.Notification) error
}

// AccountMails sends the account e-mails through the outbox: its methods are the
// account package's Mailer.
type AccountMails struct {
	Outbox Outbox
	// PublicURL is put before links given as a path ("/reset?…").
	PublicURL string
	Now       func() time.Time // time.Now when nil
}

// SendPasswordReset adds to the outbox a mail with the link that sets a new password.
func (m *AccountMails) SendPasswordReset(ctx context.Context, to account.Account, link string) error {
	body := fmt.Sprintf("Hello %s,\n\nsomeone (we hope you) asked to set a new password for %s at Trainingportal.\n"+
		"Open this link to choose one; it works for a short time and only once:\n\n%s\n\n"+
		"If you did not ask, ignore this mail: your password stays as it is.\n\n-- \nTrainingportal\n",
		orNone(to.Name()), to.Email, m.absolute(link))
	return m.add(ctx, KindPasswordReset, to, "Set a new password for Trainingportal", body)
}

// SendInvitation adds to the outbox a mail inviting to to the portal, from invitedBy.
func (m *AccountMails) SendInvitation(ctx context.Context, to account.Account, invitedBy account.Account, link string) error {
	by := orNone(invitedBy.Name())
	if invitedBy.Email != "" {
		by += " <" + invitedBy.Email + ">"
	}
	body := fmt.Sprintf("Hello %s,\n\n%s invites you to book courses on Trainingportal.\n"+
		"Open this link to choose your password and sign in:\n\n%s\n\n-- \nTrainingportal\n",
		orNone(to.Name()), by, m.absolute(link))
	return m.add(ctx, KindInvitation, to, "Your invitation to Trainingportal", body)
}

func (m *AccountMails) add(ctx context.Context, kind string, to account.Account, subject, body string) error {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	return m.Outbox.CreateNotifications(ctx, []booking.Notification{{Kind: kind, To: to.Email, Subject: subject, Body: body, CreatedAt: now}})
}

// absolute puts PublicURL before a link given as a path.
func (m *AccountMails) absolute(link string) string {
	if strings.HasPrefix(link, "/") && m.PublicURL != "" {
		return strings.TrimRight(m.PublicURL, "/") + link
	}
	return link
}
