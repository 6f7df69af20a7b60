// Package web serves the portal's pages for people: the catalogue, booking, sign-up
// and sign-in of companies' enrollers, and a company's own bookings. It is one more
// adapter over catalog.Service, booking.Service and account.Service: every booking
// goes through booking.Service.Book exactly as the /api/v1 bookings do, and the rules
// stay in those services.
//
// Pages are rendered on the server from html/template files embedded in the binary
// and parsed once, and work without JavaScript. Sessions are kept in the database by
// the session library scs; forms are protected against cross-site posts by Go's
// http.CrossOriginProtection.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/server"
)

//go:embed templates static
var files embed.FS

// Config is what the pages are built from.
type Config struct {
	Catalog  *catalog.Service
	Bookings *booking.Service
	Accounts *account.Service
	// Sessions stores the sessions; store.DB.SessionStore gives the database's.
	Sessions scs.Store
	// Staff is what the staff pages read: the booking search, the history of a
	// booking, the call journal, notifications; store.DB implements it. Required.
	Staff StaffStore
	// SecureCookies marks the session cookie Secure: set it whenever the pages are
	// reached over HTTPS (directly or through a proxy).
	SecureCookies bool
	// TrustForwarded takes the client address for the sign-in slow-down from
	// X-Forwarded-For, behind a reverse proxy.
	TrustForwarded bool
	Logger         *slog.Logger     // slog.Default() when nil
	Now            func() time.Time // time.Now when nil

	// ProviderCalls makes the staff's dry calls ("Test the URL") through the same
	// client, guard and signing as bookings; nil hides the button.
	ProviderCalls *providercall.Client
	// PublicURL is the portal's address as people reach it (e.g. https://portal.example),
	// the start of the links in invitations and password reset mails. Empty: each link
	// is built from the request's own scheme and host.
	PublicURL string
	// Outbox is the mail outbox the staff read at /staff/outbox; nil hides the page.
	Outbox Outbox
	// MailDelivered says an SMTP server sends the outbox (the page says so).
	MailDelivered bool
}

// Pages is the web adapter.
type Pages struct {
	cfg       Config
	sessions  *scs.SessionManager
	templates map[string]*template.Template
	handler   http.Handler
}

// New parses the templates and builds the handler; a template that does not parse is
// an error here, at start, never at a request.
func New(cfg Config) (*Pages, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Staff == nil {
		return nil, errors.New("web: Config.Staff is required (store.DB implements it)")
	}
	p := &Pages{cfg: cfg, templates: map[string]*template.Template{}}
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range pages {
		name = strings.TrimPrefix(name, "templates/")
		if name == "layout.html" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.templates[name] = t
	}

	p.sessions = scs.New()
	p.sessions.Store = cfg.Sessions
	p.sessions.Lifetime = 12 * time.Hour
	p.sessions.IdleTimeout = 2 * time.Hour
	p.sessions.Cookie.Name = "tportal_session"
	p.sessions.Cookie.HttpOnly = true
	p.sessions.Cookie.SameSite = http.SameSiteLaxMode
	p.sessions.Cookie.Secure = cfg.SecureCookies
	p.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		p.fail(w, r, errs.Wrap(err, "web: session"))
	}

	mux := http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static))))
	mux.HandleFunc("GET /{$}", p.catalogue)
	mux.HandleFunc("GET /classes/{id}/book", p.signedIn(p.bookForm))
	mux.HandleFunc("POST /classes/{id}/book", p.signedIn(p.book))
	mux.HandleFunc("GET /bookings", p.signedIn(p.ourBookings))
	mux.HandleFunc("GET /bookings/{ref}", p.signedIn(p.bookingPage))
	mux.HandleFunc("POST /bookings/{ref}/cancel", p.signedIn(p.cancel))
	mux.HandleFunc("GET /bookings/{ref}/calendar.ics", p.signedIn(p.calendar))
	mux.HandleFunc("GET /bookings/{ref}/documents/{id}", p.signedIn(p.document))
	mux.HandleFunc("GET /signup", p.signUpForm)
	mux.HandleFunc("POST /signup", p.signUp)
	mux.HandleFunc("GET /signin", p.signInForm)
	mux.HandleFunc("POST /signin", p.signIn)
	mux.HandleFunc("POST /signout", p.signOut)
	mux.HandleFunc("GET /colleagues", p.signedIn(p.colleagues))
	mux.HandleFunc("POST /colleagues", p.signedIn(p.invite))
	mux.HandleFunc("GET "+invitationPath, p.linkPage(account.Invitation))
	mux.HandleFunc("POST "+invitationPath, p.setPassword(account.Invitation))
	mux.HandleFunc("GET /forgot", p.forgotForm)
	mux.HandleFunc("POST /forgot", p.forgot)
	mux.HandleFunc("GET "+resetPath, p.linkPage(account.PasswordReset))
	mux.HandleFunc("POST "+resetPath, p.setPassword(account.PasswordReset))
	mux.HandleFunc("GET /staff", p.staffOnly(p.staffIndex))
	mux.HandleFunc("GET /staff/providers", p.staffOnly(p.staffProviders))
	mux.HandleFunc("GET /staff/providers/new", p.staffOnly(p.staffProviderNew))
	mux.HandleFunc("POST /staff/providers", p.staffOnly(p.staffProviderCreate))
	mux.HandleFunc("GET /staff/providers/{id}", p.staffOnly(p.staffProvider))
	mux.HandleFunc("POST /staff/providers/{id}", p.staffOnly(p.staffProviderSave))
	mux.HandleFunc("POST /staff/providers/{id}/rotate", p.staffOnly(p.staffProviderRotate))
	mux.HandleFunc("GET /staff/providers/{id}/credentials", p.staffOnly(p.staffProviderCredentials))
	mux.HandleFunc("POST /staff/providers/{id}/test", p.staffOnly(p.staffProviderTest))
	mux.HandleFunc("GET /staff/courses", p.staffOnly(p.staffCourses))
	mux.HandleFunc("GET /staff/courses/new", p.staffOnly(p.staffCourseNew))
	mux.HandleFunc("POST /staff/courses", p.staffOnly(p.staffCourseCreate))
	mux.HandleFunc("GET /staff/courses/{id}", p.staffOnly(p.staffCourse))
	mux.HandleFunc("POST /staff/courses/{id}", p.staffOnly(p.staffCourseSave))
	mux.HandleFunc("GET /staff/bookings", p.staffOnly(p.staffBookings))
	mux.HandleFunc("GET /staff/bookings/{ref}", p.staffOnly(p.staffBooking))
	mux.HandleFunc("GET /staff/calls", p.staffOnly(p.staffCalls))
	mux.HandleFunc("GET /staff/calls/{id}", p.staffOnly(p.staffCall))
	mux.HandleFunc("GET /staff/notifications", p.staffNotifications) // the outbox's old address
	mux.HandleFunc("GET /staff/outbox", p.staffOnly(p.staffOutbox))
	mux.HandleFunc("GET /staff/outbox/{id}", p.staffOnly(p.staffOutboxMessage))
	mux.HandleFunc("GET /staff/outbox/{id}/invitation.ics", p.staffOnly(p.staffOutboxCalendar))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.fail(w, r, errs.E(errs.NotFound, "there is no page at %s", r.URL.Path))
	})

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fail(w, r, errs.E(errs.Forbidden, "this form was sent from another site, so it was refused; open the page on this site and send it again"))
	}))
	p.handler = securityHeaders(p.sessions.LoadAndSave(csrf.Handler(p.withAccount(mux))))
	return p, nil
}

// Register adds the pages to mux at "/": every path the APIs do not claim.
func (p *Pages) Register(mux server.Mux) { mux.Handle("/", p.handler) }

// ServeHTTP serves the pages, for tests and for mounting elsewhere.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// securityHeaders keeps pages out of frames, scripts and styles to this site's own
// files, and personal data out of caches.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}

// Session keys: the signed-in account's id, and its session epoch at sign-in.
const (
	sessionAccount = "account"
	sessionEpoch   = "epoch"
)

type accountKey struct{}

// withAccount loads the signed-in account, if any, into the request's context. A
// session whose account is gone is signed out.
func (p *Pages) withAccount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := p.sessions.GetInt64(r.Context(), sessionAccount); id != 0 {
			a, err := p.cfg.Accounts.Account(r.Context(), id)
			if err == nil && p.sessions.GetInt64(r.Context(), sessionEpoch) != a.SessionEpoch {
				// The password was set through a link since this session began.
				err = errs.E(errs.NotFound, "session ended by a password change")
			}
			switch {
			case err == nil:
				r = r.WithContext(context.WithValue(r.Context(), accountKey{}, a))
			case errs.Is(err, errs.NotFound):
				p.sessions.Remove(r.Context(), sessionAccount)
			default:
				p.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// current returns the signed-in account; ok is false when nobody is signed in.
func current(r *http.Request) (a account.Account, ok bool) {
	a, ok = r.Context().Value(accountKey{}).(account.Account)
	return a, ok
}

// signedIn sends a visitor who is not signed in to the sign-in page, and back here
// after it.
func (p *Pages) signedIn(h func(http.ResponseWriter, *http.Request, account.Account)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := current(r)
		if !ok {
			next := r.URL.Path
			if r.Method != http.MethodGet {
				next = "/"
				if strings.HasPrefix(r.URL.Path, "/classes/") {
					next = strings.TrimSuffix(r.URL.Path, "/book") + "/book"
				}
			}
			p.flash(r, "Please sign in first.")
			http.Redirect(w, r, "/signin?next="+urlQueryEscape(next), http.StatusSeeOther)
			return
		}
		h(w, r, a)
	}
}

// page is what every template gets: the common parts of the layout and the page's own data.
type page struct {
	Title   string
	Account *account.Account
	Company string // the signed-in enroller's company
	Flash   string
	Data    any
}

// render writes a page with its status.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	t, ok := p.templates[name]
	if !ok {
		p.fail(w, r, errs.E(errs.Internal, "web: no template %s", name))
		return
	}
	pg := page{Title: title, Flash: p.sessions.PopString(r.Context(), "flash"), Data: data}
	if a, ok := current(r); ok {
		pg.Account = &a
		if a.CompanyID != 0 {
			if c, err := p.cfg.Accounts.Company(r.Context(), a.CompanyID); err == nil {
				pg.Company = c.Name
			}
		}
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		p.cfg.Logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "The page could not be shown; please try again.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// fail shows an error page with the status of the one errs table. Internal errors are
// logged with their cause and shown only generically.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := errs.HTTPStatus(err)
	msg := sentence(errs.MessageOf(err))
	if errs.CodeOf(err) == errs.Internal || errors.Is(err, context.DeadlineExceeded) {
		p.cfg.Logger.ErrorContext(r.Context(), "web page failed", "path", r.URL.Path, "err", err)
		status, msg = http.StatusInternalServerError, "Something went wrong on our side. Please try again in a moment."
	}
	title := http.StatusText(status)
	if status == http.StatusNotFound {
		title = "Page not found"
	}
	p.render(w, r, status, "error.html", title, msg)
}

// flash keeps a one-line message for the next page the visitor sees.
func (p *Pages) flash(r *http.Request, msg string) { p.sessions.Put(r.Context(), "flash", msg) }

// clientKey names the visitor's address for the sign-in slow-down.
func (p *Pages) clientKey(r *http.Request) string {
	if p.cfg.TrustForwarded {
		if f := r.Header.Get("X-Forwarded-For"); f != "" {
			first, _, _ := strings.Cut(f, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
