// Package smtpmail delivers the outbox's messages over SMTP with go-mail, a
// maintained mail library.
package smtpmail

import (
	"context"
	"fmt"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/mail"
)

// Sender sends messages through one SMTP server.
type Sender struct {
	host string
	opts []gomail.Option
	from string
}

// New makes a sender from an SMTP URL and the sender address:
//
//	smtp://user:password@host:port?starttls=mandatory  STARTTLS required (the default; port 587)
//	smtp://host:port?starttls=opportunistic             STARTTLS when offered
//	smtp://host:port?starttls=none                      no TLS (a relay on localhost)
//	smtps://user:password@host:port                     TLS from the start (port 465)
//
// With a user name the client authenticates with the best mechanism the server offers;
// PLAIN and LOGIN, which show the password, only over TLS.
func New(smtpURL, from string, timeout time.Duration) (*Sender, error) {
	u, err := url.Parse(smtpURL)
	if err != nil || u.Host == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, errs.E(errs.Invalid, "SMTP URL: want smtp://[user:password@]host[:port][?starttls=mandatory|opportunistic|none] or smtps://…")
	}
	if _, err := netmail.ParseAddress(from); err != nil {
		return nil, errs.E(errs.Invalid, "mail from: %q is not an e-mail address", from)
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithTimeout(timeout)}
	port := 587
	switch u.Scheme {
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	default:
		switch p := u.Query().Get("starttls"); p {
		case "", "mandatory":
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		case "opportunistic":
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
		case "none":
			port = 25
			opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		default:
			return nil, errs.E(errs.Invalid, "SMTP URL: starttls=%q is not mandatory, opportunistic or none", p)
		}
	}
	if ps := u.Port(); ps != "" {
		if port, err = strconv.Atoi(ps); err != nil || port <= 0 || port > 65535 {
			return nil, errs.E(errs.Invalid, "SMTP URL: port %q is not a port number", ps)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	return &Sender{host: u.Hostname(), opts: opts, from: from}, nil
}

// Redact is an SMTP URL without its password, for logs.
func Redact(smtpURL string) string {
	u, err := url.Parse(smtpURL)
	if err != nil {
		return "(an SMTP URL that does not parse)"
	}
	return u.Redacted()
}

var method = regexp.MustCompile(`(?m)^METHOD:([A-Z-]+)\r?$`)

// Send delivers one message: its text, and its calendar entry as invitation.ics with
// the iTIP method in its content type, so that mail programs offer it as an
// invitation. The Message-ID is fixed by the message's outbox ID, so that a retry
// after an unclear failure can be recognised as the same mail.
func (s *Sender) Send(ctx context.Context, n booking.Notification) error {
	m := gomail.NewMsg()
	if err := m.From(s.from); err != nil {
		return fmt.Errorf("smtpmail: from: %w", err)
	}
	if err := m.To(n.To); err != nil {
		return errs.E(errs.Invalid, "recipient %q: %v", n.To, err)
	}
	m.Subject(n.Subject)
	m.SetDate()
	domain := "tportal"
	if at := strings.LastIndexByte(s.from, '@'); at >= 0 {
		domain = strings.Trim(s.from[at+1:], "> ")
	}
	m.SetMessageIDWithValue(fmt.Sprintf("outbox-%d@%s", n.ID, domain))
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, n.Body)
	if n.Calendar != "" {
		ct := "text/calendar; charset=utf-8"
		if mm := method.FindStringSubmatch(n.Calendar); mm != nil {
			ct += "; method=" + mm[1]
		}
		if err := m.AttachReader(mail.CalendarFile, strings.NewReader(n.Calendar), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return fmt.Errorf("smtpmail: attach calendar: %w", err)
		}
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtpmail: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("smtpmail: send to %s: %w", n.To, err)
	}
	return nil
}
