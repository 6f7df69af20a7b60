// Command tportal runs both sides of the Trainingportal course-provider integration:
// the portal (serve, admin, demo) and, in later subcommands, the provider gateway and
// the conformance kit. main only parses flags and wires packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	_ "time/tzdata" // class time zones work on machines without a zoneinfo database
)

const usage = `tportal — the Trainingportal course-provider integration, both sides.

Usage:
  tportal serve      [--addr :8080] [--db URL] [--data DIR] [--allow-private-urls]
  tportal admin      provider add|list|set … ; course add|list … ; token create|list … ; calls …
  tportal demo       [--data DIR] [--addr 127.0.0.1:8080]

Every flag can also be set by an environment variable: TPORTAL_ and the flag name in
capitals with '-' as '_' (--db is TPORTAL_DB, --allow-private-urls TPORTAL_ALLOW_PRIVATE_URLS).
Run 'tportal COMMAND --help' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tportal:", err)
		}
		os.Exit(2)
	}
}

// run dispatches a command line; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "provider":
		return runProvider(ctx, args[1:], stdout, stderr)
	case "conformance":
		return runConformance(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// envOnly restricts, per flag set, which flags read the environment (see parse).
var envOnly = map[*flag.FlagSet]map[string]bool{}

// readsEnv reports whether the flag may be set from its environment variable.
func readsEnv(fs *flag.FlagSet, name string) bool {
	only, ok := envOnly[fs]
	return !ok || only[name]
}

// newFlags returns a flag set whose usage names the environment variables. When
// envFlags are given, only those flags read the environment: an admin command's
// --name must not come from a variable left in a shell.
func newFlags(name, synopsis string, stderr io.Writer, envFlags ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if len(envFlags) > 0 {
		envOnly[fs] = map[string]bool{}
		for _, n := range envFlags {
			envOnly[fs][n] = true
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags (with the environment variable each reads, if any):\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			env := ""
			if readsEnv(fs, f.Name) {
				env = " (" + envName(f.Name) + ")"
			}
			fmt.Fprintf(stderr, "  --%s%s\n    \t%s", f.Name, env, f.Usage)
			if f.DefValue != "" {
				fmt.Fprintf(stderr, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	return fs
}

// parse parses args, then fills every flag not given on the command line from its
// environment variable.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if !readsEnv(fs, f.Name) {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok && !given[f.Name] && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return err
}

func envName(flagName string) string {
	return "TPORTAL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// dbFlags are the storage flags every command that opens the database takes.
type dbFlags struct {
	db, data string
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.db, "db", "", "database: sqlite:PATH or postgres://… (default: sqlite:DATA/tportal.db)")
	fs.StringVar(&d.data, "data", "./data", "folder for the embedded database (which also holds uploaded documents)")
}

func (d *dbFlags) url() string {
	if d.db != "" {
		return d.db
	}
	return "sqlite:" + filepath.Join(d.data, "tportal.db")
}

// newLogger returns the process logger: text for people, JSON for log pipelines.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}
