package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/providercall"
)

// Demo seed: one provider with one course.
const (
	demoUsername = "demo-provider"
	demoCourseID = "BST"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c serveConfig
	fs := newFlags("demo", "tportal demo [--data DIR] [--addr 127.0.0.1:8080]", stdout)
	fs.StringVar(&c.data, "data", "./data/demo", "folder for the demo's embedded database")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	c.db = "sqlite:" + filepath.Join(c.data, "tportal.db")
	c.defaultTimeZone, c.allowPrivateURLs, c.shutdownGrace, c.logFormat = "Europe/Oslo", true, 5*time.Second, "text"
	c.providerTimeout, c.keepCancelled, c.uploadLimit = providercall.DefaultTimeout, time.Hour, booking.DefaultMaxDocumentBytes
	return runPortal(ctx, c, stderr, func(p *portal, ln net.Listener) error {
		password, err := seedDemo(ctx, p.catalog)
		if err != nil {
			return err
		}
		base := "http://" + ln.Addr().String() + "/api/courseprovider/rest/"
		fmt.Fprintf(stdout, `tportal demo: the portal is running on %s (database in %s)

Course provider credentials (a new password at every start):
  username: %s
  password: %s
  course:   externalCourseId %q

Add a class:
  curl -s %sv1/courses/get/%s/courseClasses/add \
    -d username=%s -d password=%s \
    -d externalId=OSL-W40 -d location=Oslo -d availableSeats=12 \
    -d enrollmentDeadline=2030-09-20 -d cancellationDeadline=2030-09-25 \
    -d startDate=2030-10-01 -d startTime=09:00 -d endDate=2030-10-03 -d endTime=15:30 \
    -d address.addressLine1='Karl Johans gate 1' -d address.city=Oslo -d address.zipCode=0154 \
    -d address.country=NO -d price.currency=NOK -d price.amount=12500.00

List the course's classes (add -H 'Accept: application/xml' for XML):
  curl -s %sv1/courses/get/%s/courseClasses -u %s:%s

Admin commands work on this demo's database with --data %s, for example:
  tportal admin token create --name me --data %s

Press Ctrl-C to stop.
`, ln.Addr(), c.data, demoUsername, password, demoCourseID,
			base, demoCourseID, demoUsername, password,
			base, demoCourseID, demoUsername, password, shellQuote(c.data), shellQuote(c.data))
		return nil
	})
}

// seedDemo makes sure the demo provider and course exist and gives the provider a
// fresh password, which it returns.
func seedDemo(ctx context.Context, cat *catalog.Service) (string, error) {
	password, hash, err := auth.NewPassword()
	if err != nil {
		return "", err
	}
	_, err = cat.AddProvider(ctx, catalog.Provider{Name: "Demo Safety Academy", Username: demoUsername, PasswordHash: hash})
	if errs.Is(err, errs.Conflict) {
		_, err = cat.ChangeProvider(ctx, demoUsername, catalog.ProviderChange{PasswordHash: &hash})
	}
	if err != nil {
		return "", err
	}
	_, err = cat.AddCourse(ctx, demoUsername, catalog.Course{
		Name: "Basic Safety Training", ExternalID: demoCourseID,
		Description: "GWO Basic Safety Training: first aid, manual handling, fire awareness, working at heights.",
	})
	if err != nil && !errs.Is(err, errs.Conflict) {
		return "", err
	}
	return password, nil
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
