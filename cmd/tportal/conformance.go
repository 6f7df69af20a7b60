package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/conformance"
)

const conformanceUsage = `Usage:
  tportal conformance provider --reserve-url U --cancel-url U --class ID [flags]
      tests a provider's reserve and cancel URLs as the portal calls them
  tportal conformance portal --base-url U --username U --password P --course ID [flags]
      tests an implementation of the course-provider API v1

The report goes to stdout, a progress line to stderr. Exit status: 0 when every
scenario passed (warnings and skips allowed), 1 when one failed, 2 on usage errors
or when the kit could not run. See docs/conformance.md.
Run 'tportal conformance provider --help' or '... portal --help' for the flags.
`

// conformanceEnvFlags are the conformance flags that also read the
// environment: the secrets, so they can stay off the command line.
var conformanceEnvFlags = []string{"secret", "password", "portal-password"}

// reportFlags are the report options both suites take.
type reportFlags struct {
	junit, json string
}

func (r *reportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.junit, "junit", "", "also write the report as JUnit XML to this file")
	fs.StringVar(&r.json, "json", "", "also write the report as JSON to this file")
}

// runConformance parses the command line, runs the suite and writes its
// reports. It returns a usage error (exit status 2) for a wrong command line or
// when the kit cannot run as told (the stand-in portal's address is taken, a
// report file cannot be written), and another error (exit status 1) when a
// scenario failed or the run was interrupted.
func runConformance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, conformanceUsage)
		return usageErrorf("'tportal conformance' needs a suite: provider or portal")
	}
	var (
		rep     conformance.Report
		reports reportFlags
		err     error
	)
	progress := conformance.Progress{W: stderr, Terminal: isTerminal(stderr)}
	switch args[0] {
	case "provider":
		rep, err = conformanceProvider(ctx, args[1:], stderr, progress, &reports)
	case "portal":
		rep, err = conformancePortal(ctx, args[1:], stderr, progress, &reports)
	default:
		if isHelp(args[0]) {
			fmt.Fprint(stdout, conformanceUsage)
			return errHelpShown
		}
		fmt.Fprint(stderr, conformanceUsage)
		return usageErrorf("unknown conformance suite %q: use provider or portal", args[0])
	}
	if err != nil {
		return err
	}
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{reports.junit, rep.WriteJUnit}, {reports.json, rep.WriteJSON}} {
		if out.path == "" {
			continue
		}
		if err := writeFile(out.path, out.write); err != nil {
			return usageErrorf("%v", err)
		}
	}
	switch {
	case rep.Interrupted:
		return fmt.Errorf("conformance %s: interrupted", rep.Suite)
	case !rep.Passed():
		return fmt.Errorf("conformance %s: %d of %d scenarios failed", rep.Suite, rep.Count(conformance.Fail), len(rep.Results))
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// isTerminal reports whether w is a terminal, where the progress line is
// rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// positive checks duration flags.
func positive(flags map[string]time.Duration) error {
	var errs []error
	for name, d := range flags {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("--%s must be positive, got %s", name, d))
		}
	}
	return errors.Join(errs...)
}

// usageProblems makes a usage error of the problems with a command line, if any.
func usageProblems(problems ...error) error {
	if err := errors.Join(problems...); err != nil {
		return usageErrorf("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

func conformanceProvider(ctx context.Context, args []string, stderr io.Writer, progress conformance.Progress, reports *reportFlags) (conformance.Report, error) {
	var (
		c                                    conformance.ProviderConfig
		secret, portalAddr, portalUser, pass string
	)
	fs := newFlags("conformance provider", "tportal conformance provider --reserve-url U --cancel-url U --class ID [flags]", stderr, conformanceEnvFlags...)
	fs.StringVar(&c.ReserveURL, "reserve-url", "", "the provider's reserve URL, as registered at the portal (templates allowed, SPEC §3)")
	fs.StringVar(&c.CancelURL, "cancel-url", "", "the provider's cancel URL, as registered at the portal")
	fs.StringVar(&c.Class, "class", "", "externalCourseClassId of an open class with at least two free seats")
	fs.StringVar(&c.Course, "course", "", "externalCourseId of that class's course (sent as externalCourseId)")
	fs.StringVar(&c.SoldOutClass, "sold-out-class", "", "externalCourseClassId of a class without free seats (else that scenario is skipped)")
	fs.StringVar(&secret, "secret", "", "the provider's shared secret: calls are signed, and unsigned calls must be refused")
	fs.DurationVar(&c.Timeout, "timeout", conformance.DefaultTimeout, "longest wait for one answer")
	fs.DurationVar(&c.Budget, "budget", conformance.DefaultBudget, "the answer time every call must stay within")
	fs.DurationVar(&c.ConfirmWait, "confirm-wait", conformance.DefaultConfirmWait, "how long to wait for the provider to confirm its reservations")
	fs.StringVar(&portalAddr, "portal-addr", "127.0.0.1:0", "address of the kit's stand-in portal, which answers getBookingInformation")
	fs.StringVar(&portalUser, "portal-username", "", "username the provider must send to the stand-in portal (default: any)")
	fs.StringVar(&pass, "portal-password", "", "password the provider must send to the stand-in portal")
	reports.register(fs)
	if err := parse(fs, args); err != nil {
		return conformance.Report{}, err
	}
	c.Secret = []byte(secret)
	if err := usageProblems(conformance.CheckProviderConfig(c),
		positive(map[string]time.Duration{"timeout": c.Timeout, "budget": c.Budget, "confirm-wait": c.ConfirmWait})); err != nil {
		return conformance.Report{}, err
	}
	portal, err := conformance.StartPortal(portalAddr, portalUser, pass)
	if err != nil {
		return conformance.Report{}, usageErrorf("--portal-addr %s: %v", portalAddr, err)
	}
	defer portal.Close()
	fmt.Fprintf(stderr, "stand-in portal for getBookingInformation: %s (point the provider's portal URL here)\n", portal.URL())
	c.Portal, c.Progress = portal, progress
	return conformance.RunProvider(ctx, c), nil
}

func conformancePortal(ctx context.Context, args []string, stderr io.Writer, progress conformance.Progress, reports *reportFlags) (conformance.Report, error) {
	var c conformance.PortalConfig
	fs := newFlags("conformance portal", "tportal conformance portal --base-url U --username U --password P --course ID [flags]", stderr, conformanceEnvFlags...)
	fs.StringVar(&c.BaseURL, "base-url", "", "the API base, e.g. https://www.trainingportal.no/mintra/api/courseprovider/rest/ (a bare host gets /api/courseprovider/rest/)")
	fs.StringVar(&c.Username, "username", "", "the provider's API username")
	fs.StringVar(&c.Password, "password", "", "the provider's API password")
	fs.StringVar(&c.Course, "course", "", "externalCourseId of one of the provider's courses; test classes are added to it and cancelled")
	fs.DurationVar(&c.Timeout, "timeout", conformance.DefaultTimeout, "longest wait for one answer")
	reports.register(fs)
	if err := parse(fs, args); err != nil {
		return conformance.Report{}, err
	}
	if err := usageProblems(conformance.CheckPortalConfig(c), positive(map[string]time.Duration{"timeout": c.Timeout})); err != nil {
		return conformance.Report{}, err
	}
	c.Progress = progress
	return conformance.RunPortal(ctx, c), nil
}
