package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/api/courseprovider"
	portalapi "github.com/tportal/tportal/internal/api/portal"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/jobs"
	"github.com/tportal/tportal/internal/mail"
	"github.com/tportal/tportal/internal/mail/smtpmail"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/server"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/web"
)

// serveConfig is everything `tportal serve` (and the demo's portal) is configured by.
type serveConfig struct {
	dbFlags
	addr             string
	allowPrivateURLs bool
	defaultTimeZone  string
	trustForwarded   bool
	shutdownGrace    time.Duration
	logFormat        string
	logLevel         string
	providerTimeout  time.Duration
	keepCancelled    time.Duration
	uploadLimit      int64
	defaultCountry   string
	secureCookies    bool
	smtpURL          string
	mailFrom         string
	publicURL        string
	debugAddr        string // serve only: Go's runtime profiles on a listener of their own
}

func (c *serveConfig) register(fs *flag.FlagSet) {
	c.dbFlags.register(fs)
	fs.StringVar(&c.addr, "addr", ":8080", "address to listen on")
	fs.BoolVar(&c.allowPrivateURLs, "allow-private-urls", false, "allow provider URLs on loopback, private and link-local addresses (demo, tests)")
	fs.StringVar(&c.defaultTimeZone, "default-time-zone", "Europe/Oslo", "IANA time zone of classes that name none")
	fs.BoolVar(&c.trustForwarded, "trust-forwarded", false, "behind a reverse proxy: take the client address from X-Forwarded-For")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 15*time.Second, "how long a shutdown waits for requests in flight")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&c.providerTimeout, "provider-timeout", providercall.DefaultTimeout, "total time a call to a provider's reserve or cancel URL may take")
	fs.DurationVar(&c.keepCancelled, "keep-cancelled", time.Hour, "how long a cancelled class with bookings stays restorable before it is deleted")
	fs.Int64Var(&c.uploadLimit, "upload-limit", booking.DefaultMaxDocumentBytes, "largest document a provider may upload, in bytes")
	fs.BoolVar(&c.secureCookies, "secure-cookies", false, "mark the web pages' session cookie Secure: set it when the portal is reached over HTTPS")
	fs.StringVar(&c.smtpURL, "smtp-url", "", "SMTP server that sends the portal's e-mail: smtp://user:password@host:587 (STARTTLS required; ?starttls=opportunistic or ?starttls=none to relax), or smtps://… for TLS from the start; empty: mails stay in the outbox for staff to read at /staff/outbox")
	fs.StringVar(&c.mailFrom, "mail-from", "", "sender address of the portal's e-mail, e.g. \"Trainingportal <noreply@portal.example>\" (required with --smtp-url)")
	fs.StringVar(&c.publicURL, "public-url", "", "absolute address of the portal as people reach it, e.g. https://portal.example; the base of links in e-mails (none when empty)")
	fs.StringVar(&c.defaultCountry, "default-country", courseprovider.DefaultCountryCode, "country (ISO 3166-1 alpha-2) of phone numbers given without a country code")
}

// portal is a wired portal: storage, services, background jobs and the HTTP handler.
type portal struct {
	db       *store.DB
	catalog  *catalog.Service
	bookings *booking.Service
	jobs     *jobs.Runner
	handler  http.Handler
	logger   *slog.Logger
	// stopSessions stops the web sessions' cleanup of expired sessions.
	stopSessions func()
}

// start starts the background jobs; close stops them and closes the database.
func (p *portal) start(ctx context.Context) error { return p.jobs.Start(ctx) }

func (p *portal) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.jobs.Stop(ctx); err != nil {
		p.logger.Warn("stopping background jobs", "err", err)
	}
	p.stopSessions()
	p.db.Close()
}

func (c *serveConfig) check() error {
	if _, err := time.LoadLocation(c.defaultTimeZone); err != nil || c.defaultTimeZone == "Local" {
		return usageErrorf("--default-time-zone %q is not an IANA time zone (examples: Europe/Oslo, UTC)", c.defaultTimeZone)
	}
	if err := courseprovider.CheckCountry(c.defaultCountry); c.defaultCountry != "" && err != nil { // "": the default
		return usageErrorf("--default-country: %v", err)
	}
	if c.publicURL != "" {
		if u, err := url.Parse(c.publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrorf("--public-url %q is not an absolute http(s) URL (example: https://portal.example)", c.publicURL)
		}
	}
	if c.smtpURL != "" {
		if c.mailFrom == "" {
			return usageErrorf("--smtp-url needs --mail-from, the sender address of the portal's e-mail")
		}
		if _, err := smtpmail.New(c.smtpURL, c.mailFrom, 0); err != nil {
			return usageErrorf("--smtp-url %s / --mail-from: %s", smtpmail.Redact(c.smtpURL), errs.MessageOf(err))
		}
	}
	return nil
}

// mailer returns the SMTP sender, nil when no SMTP server is configured (check has
// validated the flags).
func (c *serveConfig) mailer() jobs.Sender {
	if c.smtpURL == "" {
		return nil
	}
	s, err := smtpmail.New(c.smtpURL, c.mailFrom, 0)
	if err != nil {
		return nil // a nil *Sender in the interface would not be nil
	}
	return s
}

// openPortal opens the database and wires the services and handlers.
func openPortal(ctx context.Context, c serveConfig, logger *slog.Logger) (*portal, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, c.url())
	if err != nil {
		return nil, err
	}
	reg := server.NewRegistry()
	server.RegisterBookingMetrics(reg, db)
	if db.Dialect() == "sqlite" {
		server.RegisterGroupCommitMetrics(reg, db)
	}
	caller := providercall.BookingCaller{Client: providercall.New(providercall.Options{
		Timeout:          c.providerTimeout,
		AllowPrivateURLs: c.allowPrivateURLs,
		Journal:          db,
		Metrics:          providercall.NewMetrics(reg),
		Logger:           logger,
	})}
	bookings := &booking.Service{Store: db, Caller: caller, Logger: logger, CallTimeout: c.providerTimeout, MaxDocumentBytes: c.uploadLimit,
		Mail: &mail.Composer{PublicURL: c.publicURL, From: mailAddress(c.mailFrom)}}
	cat := newCatalog(db, c)
	cat.KeepCancelled = c.keepCancelled
	cat.ClassCancelled = bookings.NotifyClassCancelled
	cat.ClassUpdated = bookings.NotifyClassUpdated
	cat.ClassRestored = bookings.NotifyClassRestored
	runner, err := jobs.New(ctx, db.SQL(), db.Dialect(), bookings, cat, jobs.Options{Logger: logger, MigrationLock: db.WithMigrationLock,
		Mail: &jobs.MailOptions{Outbox: db, Sender: c.mailer()}})
	if err != nil {
		db.Close()
		return nil, err
	}
	bookings.Cleaner = runner
	if runner.Delivers() {
		// Each message is scheduled for delivery in the transaction that stores it.
		db.SetMailQueue(runner.EnqueueMailTx)
	}
	api := &courseprovider.API{Catalog: cat, Bookings: bookings, Auth: auth.New(db), TrustForwarded: c.trustForwarded,
		DefaultCountry: c.defaultCountry}
	portalAPI := &portalapi.API{Catalog: cat, Bookings: bookings, Tokens: &auth.TokenAuth{Store: db}}
	// Account mails (password reset, invitation) only go out over SMTP: without it a
	// reset link would wait in the outbox, where staff could read it and take over the
	// account. Then /forgot says the portal sends no e-mail, and an invitation's link
	// is shown to the colleague who invites.
	var accountMailer account.Mailer
	if runner.Delivers() {
		accountMailer = &mail.AccountMails{Outbox: db, PublicURL: c.publicURL}
	}
	sessions, stopSessions := db.SessionStore(5 * time.Minute)
	pages, err := web.New(web.Config{
		Catalog: cat, Bookings: bookings, Sessions: sessions, Logger: logger, ProviderCalls: caller.Client, Staff: db,
		Accounts: &account.Service{Store: db, Passwords: &auth.Passwords{}, Throttle: &auth.SignInThrottle{Store: db},
			Mailer: accountMailer, Logger: logger},
		SecureCookies: c.secureCookies, TrustForwarded: c.trustForwarded, PublicURL: c.publicURL,
		Outbox: db, MailDelivered: runner.Delivers(),
	})
	if err != nil {
		stopSessions()
		db.Close()
		return nil, err
	}
	h := server.Handler(db, reg, server.NewMetrics(reg), logger, api, portalAPI, pages)
	return &portal{db: db, catalog: cat, bookings: bookings, jobs: runner, handler: h, logger: logger, stopSessions: stopSessions}, nil
}

// mailAddress is the bare address of a sender such as "Portal <noreply@x.example>".
func mailAddress(from string) string {
	if a, err := netmail.ParseAddress(from); err == nil {
		return a.Address
	}
	return from
}

func newCatalog(db *store.DB, c serveConfig) *catalog.Service {
	allow := c.allowPrivateURLs
	return &catalog.Service{
		Store:       db,
		DefaultZone: c.defaultTimeZone,
		NewPassword: auth.NewPassword,
		CheckURL: func(kind, u string) error {
			if err := providercall.CheckTemplate(providercall.Kind(kind), u, allow); err != nil {
				return errors.New(providercall.Reason(err))
			}
			return nil
		},
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c serveConfig
	fs := newFlags("serve", "tportal serve [flags]", stdout)
	c.register(fs)
	fs.StringVar(&c.debugAddr, "debug-addr", "", "address of a separate listener serving Go's runtime profiles at /debug/pprof/ (CPU, heap, goroutines); empty: none. Keep it on loopback: profiles show the program's internals")
	if err := parse(fs, args); err != nil {
		return err
	}
	heapRate := setHeapProfiling(c.debugAddr != "")
	debugAddr := ""
	if c.debugAddr != "" {
		bound, stop, err := serveDebug(c.debugAddr)
		if err != nil {
			return fmt.Errorf("--debug-addr: %w", err)
		}
		defer stop()
		debugAddr = bound
	}
	return runPortal(ctx, c, stderr, func(p *portal, ln net.Listener) error {
		p.logger.Info("portal listening", "addr", ln.Addr().String(), "db", store.Redact(c.url()), "dialect", p.db.Dialect())
		if debugAddr != "" {
			p.logger.Info("runtime profiles listening", "addr", debugAddr, "path", "/debug/pprof/")
		}
		p.logger.Debug("heap profiling", "memprofilerate", heapRate)
		if c.smtpURL == "" {
			p.logger.Info("no --smtp-url: e-mails stay in the outbox, for staff at /staff/outbox")
		} else {
			p.logger.Info("sending e-mail", "smtp", smtpmail.Redact(c.smtpURL), "from", c.mailFrom)
		}
		return nil
	})
}

// runPortal runs a portal configured by c until ctx is done: logger, database,
// background jobs, listener, then the HTTP server. ready is told about the wired
// portal and its listener before the server starts.
func runPortal(ctx context.Context, c serveConfig, stderr io.Writer, ready func(*portal, net.Listener) error) error {
	logger, err := newLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)
	logger.Debug("garbage collector", "gogc", setServingGC())
	p, err := openPortal(ctx, c, logger)
	if err != nil {
		return err
	}
	defer p.close()
	if err := p.start(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	if err := ready(p, ln); err != nil {
		ln.Close()
		return err
	}
	return server.Run(ctx, ln, p.handler, c.shutdownGrace, logger)
}
