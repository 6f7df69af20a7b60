// Command tportal runs both sides of the Trainingportal course-provider integration:
// the portal (serve, admin, demo) and, in later subcommands, the provider gateway and
// the conformance kit. main only parses flags and wires packages together.
//
// # Adding a command
//
// A top-level command is one case in run's switch and one line in usage. A command
// with subcommands (like admin) lists them in a commandSet and calls dispatch, which
// gives every level the same behaviour: --help (or -h, or help) prints the level's
// commands and exits 0; a missing or unknown subcommand lists the valid ones and exits
// 2. A command's flags come from newFlags and parse: --help prints the flags (with the
// environment variable each reads) and exits 0; a bad flag is reported once, with a
// hint where one helps, and exits 2.
//
// Exit status: 0 success or help, 1 the command failed (for example "no database at
// PATH"), 2 the command line was wrong.
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
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // class time zones work on machines without a zoneinfo database
)

const usage = `tportal — the Trainingportal course-provider integration, both sides.

Usage:
  tportal serve      [--addr :8080] [--db URL] [--data DIR] [--allow-private-urls]   run the portal
  tportal admin      provider|course|staff|token|calls …   manage the portal's database
  tportal demo       [--data DIR] [--addr 127.0.0.1:8080]   the portal and a provider gateway, seeded, on SQLite
  tportal provider   serve|course|class|booking …   a course provider's gateway
  tportal conformance provider|portal …   test a provider's URLs or a portal's API v1
  tportal version    print the version

Every flag can also be set by an environment variable: TPORTAL_ and the flag name in
capitals with '-' as '_' (--db is TPORTAL_DB, --allow-private-urls TPORTAL_ALLOW_PRIVATE_URLS).
Run 'tportal COMMAND --help' for a command's flags or subcommands.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(exitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// errHelpShown says that help was asked for and printed: exit 0.
var errHelpShown = errors.New("help shown")

// usageError is a wrong command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// asUsageError makes every error of a command exit 2, for commands that document
// status 2 for any error they return (conformance: a usage error or a kit that could
// not run).
func asUsageError(err error) error {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelpShown), errors.As(err, &ue):
		return err
	case errors.Is(err, flag.ErrHelp): // no subcommand: the usage it printed says enough
		return &usageError{}
	}
	return &usageError{msg: err.Error()}
}

// exitCode prints err once (help has printed itself) and returns the exit status.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelpShown), errors.Is(err, flag.ErrHelp):
		// flag.ErrHelp: a command that printed its own help (flag.FlagSet's --help).
		return 0
	case errors.As(err, &ue):
		if ue.msg != "" {
			fmt.Fprintln(stderr, "tportal:", err)
		}
		return 2
	}
	fmt.Fprintln(stderr, "tportal:", err)
	return 1
}

// run dispatches a command line; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageErrorf("no command given")
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
	case "version":
		return runVersion(args[1:], stdout)
	case "conformance":
		return runConformance(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageErrorf("unknown command %q; see the commands above", args[0])
}

// runVersion prints the module version and VCS revision the binary was built from.
func runVersion(args []string, stdout io.Writer) error {
	if len(args) > 0 && !isHelp(args[0]) {
		return usageErrorf("version takes no arguments")
	}
	fmt.Fprintln(stdout, versionString())
	return nil
}

func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "tportal (no build information)"
	}
	v := "tportal " + info.Main.Version
	var extra []string
	extra = append(extra, info.GoVersion)
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			extra = append(extra, "revision "+s.Value)
		case "vcs.time":
			extra = append(extra, s.Value)
		case "vcs.modified":
			if s.Value == "true" {
				extra = append(extra, "with local changes")
			}
		}
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// commandSet maps the words of each subcommand under one command ("provider add",
// "calls") to what runs it.
type commandSet map[string]subcommand

// subcommand is one runnable subcommand.
type subcommand struct {
	summary string // one line for the listing
	// run runs it with the arguments after its words; path is its full name
	// ("tportal admin provider add").
	run func(ctx context.Context, path string, args []string, stdout, stderr io.Writer) error
}

// dispatch finds the subcommand of set named by the leading words of args and runs
// it. path is the command so far ("tportal admin"). Asked for help, or given too few
// words, it lists the subcommands under the words given; given a wrong word, it lists
// the valid ones.
func dispatch(ctx context.Context, path string, set commandSet, args []string, stdout, stderr io.Writer) error {
	var words []string
	for {
		prefix := strings.Join(words, " ")
		if cmd, ok := set[prefix]; ok && prefix != "" {
			return cmd.run(ctx, path+" "+prefix, args, stdout, stderr)
		}
		here := strings.TrimSpace(path + " " + prefix)
		if len(args) == 0 {
			listCommands(stderr, here, set, prefix)
			return usageErrorf("'%s' needs a command; see the list above", here)
		}
		if isHelp(args[0]) {
			listCommands(stdout, here, set, prefix)
			return errHelpShown
		}
		next := strings.TrimSpace(prefix + " " + args[0])
		if len(below(set, next)) == 0 {
			listCommands(stderr, here, set, prefix)
			return usageErrorf("unknown command %q for '%s'; valid: %s", args[0], here, strings.Join(nextWords(set, prefix), ", "))
		}
		words, args = append(words, args[0]), args[1:]
	}
}

// below returns the names in set that are prefix or start with its words, sorted.
func below(set commandSet, prefix string) []string {
	var names []string
	for name := range set {
		if prefix == "" || name == prefix || strings.HasPrefix(name, prefix+" ") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// nextWords returns the distinct words that may follow prefix.
func nextWords(set commandSet, prefix string) []string {
	var out []string
	for _, name := range below(set, prefix) {
		rest := strings.TrimSpace(strings.TrimPrefix(name, prefix))
		if w, _, _ := strings.Cut(rest, " "); w != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// listCommands prints the subcommands of path that start with prefix.
func listCommands(w io.Writer, path string, set commandSet, prefix string) {
	fmt.Fprintf(w, "Usage: %s COMMAND [flags]\n\nCommands:\n", path)
	names := below(set, prefix)
	width := 0
	for _, n := range names {
		width = max(width, len(strings.TrimSpace(strings.TrimPrefix(n, prefix))))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, strings.TrimSpace(strings.TrimPrefix(n, prefix)), set[n].summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", path)
}

// envOnly restricts, per flag set, which flags read the environment (see parse).
var envOnly = map[*flag.FlagSet]map[string]bool{}

// readsEnv reports whether the flag may be set from its environment variable.
func readsEnv(fs *flag.FlagSet, name string) bool {
	only, ok := envOnly[fs]
	return !ok || only[name]
}

// envPrefix starts the environment variables of the portal's commands.
const envPrefix = "TPORTAL_"

// envPrefixes holds, per flag set, the prefix of its environment variables (see
// newFlagsWithPrefix); a flag set not in it uses envPrefix.
var envPrefixes = map[*flag.FlagSet]string{}

// newFlags returns a flag set for the command path ("serve", "admin token create")
// whose --help prints the synopsis and the flags, with the environment variable each
// reads, to out. When envFlags are given, only those flags read the environment: an
// admin command's --name must not come from a variable left in a shell.
func newFlags(path, synopsis string, out io.Writer, envFlags ...string) *flag.FlagSet {
	return newFlagsWithPrefix(envPrefix, path, synopsis, out, envFlags...)
}

// newFlagsWithPrefix is newFlags for a command whose environment variables start
// with prefix instead of envPrefix (the provider gateway's TPORTAL_PROVIDER_).
func newFlagsWithPrefix(prefix, path, synopsis string, out io.Writer, envFlags ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(out)
	envPrefixes[fs] = prefix
	if len(envFlags) > 0 {
		envOnly[fs] = map[string]bool{}
		for _, n := range envFlags {
			envOnly[fs][n] = true
		}
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\nFlags (with the environment variable each reads, if any):\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			env := ""
			if readsEnv(fs, f.Name) {
				env = " (" + envName(fs, f.Name) + ")"
			}
			fmt.Fprintf(w, "  --%s%s\n    \t%s", f.Name, env, f.Usage)
			if f.DefValue != "" {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(w)
		})
	}
	return fs
}

// parse parses args, then fills every flag not given on the command line from its
// environment variable. --help prints the flags and returns errHelpShown; a wrong
// flag is a usageError, said once, with a hint where one helps.
func parse(fs *flag.FlagSet, args []string) error {
	out, printUsage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard) // the flag package would print the error and the usage itself
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = printUsage
	if errors.Is(err, flag.ErrHelp) {
		printUsage()
		return errHelpShown
	}
	cmd := fs.Name()
	if err != nil {
		return usageErrorf("%s: %s (see 'tportal %s --help')", cmd, flagProblem(fs, err), cmd)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if !readsEnv(fs, f.Name) {
			return
		}
		if v, ok := os.LookupEnv(envName(fs, f.Name)); ok && !given[f.Name] && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = usageErrorf("%s: %s=%q: %s", cmd, envName(fs, f.Name), v, valueProblem(f, v))
			}
		}
	})
	if err == nil && fs.NArg() > 0 {
		err = usageErrorf("%s: unexpected argument %q; every value is given with a flag (see 'tportal %s --help')", cmd, fs.Arg(0), cmd)
	}
	return err
}

// flagProblem rewrites the flag package's error in the command line's terms.
func flagProblem(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		if near := nearestFlag(fs, name); near != "" {
			return fmt.Sprintf("unknown flag --%s; did you mean --%s?", name, near)
		}
		return fmt.Sprintf("unknown flag --%s", name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("flag --%s needs a value", name)
	}
	// invalid value "10" for flag -provider-timeout: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if i := strings.Index(rest, " for flag -"); i > 0 {
			v, _ := strconv.Unquote(rest[:i])
			name, _, _ := strings.Cut(rest[i+len(" for flag -"):], ":")
			if f := fs.Lookup(name); f != nil {
				return fmt.Sprintf("--%s %q: %s", name, v, valueProblem(f, v))
			}
		}
	}
	if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		if i := strings.Index(rest, " for -"); i > 0 {
			name, _, _ := strings.Cut(rest[i+len(" for -"):], ":")
			return fmt.Sprintf("--%s takes true or false (or no value for true), not %s", name, rest[:i])
		}
	}
	return msg
}

// valueProblem says why v is not a value of f, with a hint for a duration without unit.
func valueProblem(f *flag.Flag, v string) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "not a valid value"
	}
	switch g.Get().(type) {
	case time.Duration:
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return fmt.Sprintf("not a duration; did you mean %ss?", v)
		}
		return "not a duration (examples: 10s, 1m30s, 2h)"
	case bool:
		return "not true or false"
	case int, int64, uint, uint64:
		return "not a whole number"
	}
	return "not a valid value"
}

// nearestFlag returns the defined flag closest to name (at most two edits), or "".
func nearestFlag(fs *flag.FlagSet, name string) string {
	best, bestDist := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		if d := editDistance(name, f.Name); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// envName is the environment variable of fs's flag flagName.
func envName(fs *flag.FlagSet, flagName string) string {
	prefix, ok := envPrefixes[fs]
	if !ok {
		prefix = envPrefix
	}
	return prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
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
		return nil, usageErrorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageErrorf("--log-format %q: use text or json", format)
}
