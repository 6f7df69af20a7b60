package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/providercall"
)

// The demo's provider account at the portal.
const (
	demoUsername     = "demo-provider"
	demoProviderName = "Nordic Safety Academy"
)

// The demo's staff account for the web pages' staff section. Its password is fixed, not
// made at each start like the provider's, because the account's password cannot be
// changed; the demo listens on the loopback address only by default.
const (
	demoStaffEmail    = "staff@trainingportal.example"
	demoStaffPassword = "demo-staff-password"
	// An enroller of a seeded company, so that a visitor can book in the browser at
	// once (signing a new company up at /signup works too).
	demoEnrollerCompany  = "Acme Industri AS"
	demoEnrollerEmail    = "ola@acme-industri.no"
	demoEnrollerPassword = "demo-enroller-password"
)

// demoConfig is everything `tportal demo` is configured by.
type demoConfig struct {
	data, addr, providerAddr, logLevel string
}

// runDemo is `tportal demo`: the portal and a provider gateway in one process, on two
// ports and two embedded databases under --data, wired to each other as a real
// portal and provider are, with seeded courses, classes and bookings.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var d demoConfig
	fs := newFlags("demo", "tportal demo [--data DIR] [--addr 127.0.0.1:8080] [--provider-addr 127.0.0.1:8090]", stdout)
	fs.StringVar(&d.data, "data", "./data/demo", "folder for the demo's two embedded databases (DATA/portal and DATA/provider)")
	fs.StringVar(&d.addr, "addr", "127.0.0.1:8080", "address of the portal")
	fs.StringVar(&d.providerAddr, "provider-addr", "127.0.0.1:8090", "address of the provider gateway")
	fs.StringVar(&d.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	var c serveConfig
	c.data, c.addr, c.logLevel = filepath.Join(d.data, "portal"), d.addr, d.logLevel
	c.defaultTimeZone, c.allowPrivateURLs, c.shutdownGrace, c.logFormat = "Europe/Oslo", true, 5*time.Second, "text"
	c.providerTimeout, c.keepCancelled, c.uploadLimit = providercall.DefaultTimeout, time.Hour, booking.DefaultMaxDocumentBytes
	// The demo has no SMTP server: its mails wait in the outbox, which staff read at
	// /staff/outbox; their links point at the demo portal.
	c.publicURL = "http://" + d.addr

	gw, err := openGateway(ctx, "sqlite:"+filepath.Join(d.data, "provider", "gateway.db"), io.Discard, stderr)
	if err != nil {
		return err
	}
	defer gw.db.Close()

	demoCtx, stopDemo := context.WithCancel(ctx)
	defer stopDemo()
	var gatewayDone chan error
	err = runPortal(demoCtx, c, stderr, func(p *portal, ln net.Listener) error {
		password, err := seedDemoPortal(ctx, p.catalog)
		if err != nil {
			return err
		}
		p.handler = withDemoFrontPage(p.handler)
		portalURL := "http://" + ln.Addr().String()
		gc := providerServeConfig{
			portal: portalFlags{baseURL: portalURL, username: demoUsername, password: password, allowPrivate: true},
			addr:   d.providerAddr, format: "json", maxSkew: 5 * time.Minute,
			logFormat: "text", logLevel: d.logLevel, shutdownGrace: 5 * time.Second,
			sync: syncFlags{providerName: demoProviderName, confirmWindow: 10 * time.Minute, confirmBackoff: 200 * time.Millisecond,
				retryBackoff: 500 * time.Millisecond, pushDelay: 200 * time.Millisecond, poll: 200 * time.Millisecond, rescueAfter: 2 * time.Minute},
		}
		gatewayDone = make(chan error, 1)
		go func() {
			err := runGateway(demoCtx, gw, gc, func(addr net.Addr, reserve, cancel string) error {
				steps, err := seedDemo(demoCtx, demoWorld{portal: p, gateway: gw, reserveURL: reserve, cancelURL: cancel})
				if err != nil {
					return fmt.Errorf("seeding the demo: %w", err)
				}
				steps.portalURL, steps.gatewayURL, steps.portalData, steps.providerData, steps.cli = portalURL, "http://"+addr.String(), c.data, filepath.Join(d.data, "provider"), demoCLI()
				steps.password = password
				steps.print(stdout)
				return nil
			})
			stopDemo() // the portal stops with the gateway
			gatewayDone <- err
		}()
		return nil
	})
	stopDemo()
	if gatewayDone != nil {
		err = errors.Join(err, <-gatewayDone)
	}
	fmt.Fprintln(stderr, "tportal demo: demo stopped")
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil // Ctrl-C while seeding: the next start completes the seed
	}
	return err
}

// seedDemoPortal makes sure the demo provider and its courses exist at the portal and
// gives the provider a fresh password, which it returns.
func seedDemoPortal(ctx context.Context, cat *catalog.Service) (string, error) {
	password, hash, err := auth.NewPassword()
	if err != nil {
		return "", err
	}
	_, err = cat.AddProvider(ctx, catalog.Provider{Name: demoProviderName, Username: demoUsername, PasswordHash: hash})
	if errs.Is(err, errs.Conflict) {
		_, err = cat.ChangeProvider(ctx, demoUsername, catalog.ProviderChange{PasswordHash: &hash})
	}
	if err != nil {
		return "", err
	}
	for _, course := range demoCourses {
		_, err = cat.AddCourse(ctx, demoUsername, catalog.Course{Name: course.name, ExternalID: course.id, Description: course.description})
		if err != nil && !errs.Is(err, errs.Conflict) {
			return "", err
		}
	}
	return password, nil
}

// withDemoFrontPage answers / with a page pointing at the demo's steps, unless the
// portal's handler answers / itself (the web pages, once they exist).
func withDemoFrontPage(h http.Handler) http.Handler {
	probe := httptest.NewRecorder()
	h.ServeHTTP(probe, httptest.NewRequest("GET", "/", nil))
	if probe.Code != http.StatusNotFound {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, demoFrontPage)
	})
	return mux
}

const demoFrontPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tportal demo</title></head>
<body>
<h1>tportal demo: the portal</h1>
<p>This is the Trainingportal side of the integration; a provider gateway runs next to it.
The terminal that started <code>tportal demo</code> lists the steps to try, in order:
book a class, watch the provider confirm it, change seats at the provider, mark attendance,
download a certificate.</p>
<ul>
<li><a href="/healthz">/healthz</a>: the portal is up</li>
<li><code>/api/v1/</code>: the booking API, with the demo's API token (docs/api-portal.md)</li>
<li><code>/api/courseprovider/rest/</code>: the course-provider API the gateway calls (docs/api.md)</li>
</ul>
</body></html>
`

// demoCLI is how the printed commands start tportal: the binary that runs, or
// `go run ./cmd/tportal` under go run, whose binary is gone once it stops.
func demoCLI() string {
	exe, err := os.Executable()
	if err != nil || strings.Contains(exe, "go-build") {
		return "go run ./cmd/tportal"
	}
	if onPath, err := exec.LookPath("tportal"); err == nil {
		if a, b := resolve(onPath), resolve(exe); a == b {
			return "tportal"
		}
	}
	return shellQuote(exe)
}

func resolve(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	p, _ := filepath.Abs(path)
	return p
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
