package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/store/storetest"
)

// Every level of the command line answers --help with its subcommands or flags and
// exit 0, a missing or unknown subcommand with the valid ones and exit 2, and a flag
// error once, with a hint; none of it touches a database.
func TestCommandLine(t *testing.T) {
	for _, tt := range []struct {
		args       string
		code       int
		stdout     []string // each must appear in stdout
		stderr     []string // each must appear in stderr
		notStderr  string   // must not appear in stderr
		stderrOnce string   // must appear exactly once in stderr
	}{
		{args: "--help", code: 0, stdout: []string{"tportal serve", "tportal admin", "tportal demo", "tportal version"}},
		{args: "help", code: 0, stdout: []string{"tportal admin"}},
		{args: "", code: 2, stderr: []string{"tportal serve", "no command given"}},
		{args: "frob", code: 2, stderr: []string{"tportal admin", `unknown command "frob"`}},
		{args: "version", code: 0, stdout: []string{"tportal ", "go1."}},
		{args: "admin --help", code: 0, stdout: []string{"provider add", "token revoke", "calls", "course list"}},
		{args: "admin -h", code: 0, stdout: []string{"token create"}},
		{args: "admin", code: 2, stderr: []string{"provider add", "needs a command"}},
		{args: "admin provider", code: 2, stderr: []string{"Usage: tportal admin provider COMMAND", "  add ", "  list ", "  set "}},
		{args: "admin provider --help", code: 0, stdout: []string{"  add ", "  list ", "  set "}},
		{args: "admin token", code: 2, stderr: []string{"create", "list", "revoke"}},
		{args: "admin bogus", code: 2, stderr: []string{`unknown command "bogus" for 'tportal admin'; valid: calls, company, course, provider, staff, token`}},
		{args: "admin provider bogus", code: 2, stderr: []string{"valid: add, list, set"}},
		{args: "admin provider list --help", code: 0, stdout: []string{"Usage: tportal admin provider list", "--db (TPORTAL_DB)"}},
		{args: "admin token create --help", code: 0, stdout: []string{"--expires", "--name", "--company"}},
		{args: "admin token create --name x --company acme", code: 2, stderr: []string{`--company "acme" is not a company id`}},
		{args: "admin token revoke --help", code: 0, stdout: []string{"--id", "--name"}},
		{args: "serve --help", code: 0, stdout: []string{"--provider-timeout (TPORTAL_PROVIDER_TIMEOUT)", "--allow-private-urls"}},
		{args: "demo --help", code: 0, stdout: []string{"--data (TPORTAL_DATA)"}},
		{args: "serve --provider-timeout 10", code: 2, stderrOnce: "did you mean 10s?", notStderr: "Usage:"},
		{args: "serve --provider-timeout soon", code: 2, stderr: []string{"not a duration (examples: 10s"}},
		{args: "serve --dta x", code: 2, stderrOnce: "unknown flag --dta; did you mean --data?"},
		{args: "serve --allow-private-urls=maybe", code: 2, stderr: []string{"--allow-private-urls takes true or false"}},
		{args: "serve extra", code: 2, stderr: []string{`unexpected argument "extra"`}},
		{args: "serve --default-time-zone Mars/Base", code: 2, stderr: []string{"not an IANA time zone"}},
		{args: "admin token create --name x --expires 30", code: 2, stderr: []string{"did you mean 30h?"}},
		{args: "admin token create --name x --expires 2001-01-01", code: 2, stderr: []string{"not in the future"}},
		{args: "admin token revoke", code: 2, stderr: []string{"give either --id or --name"}},
		{args: "admin staff add --help", code: 0, stdout: []string{"--email", "--first-name", "--last-name", "--password-stdin"}},
		{args: "admin staff add --email a@b.example", code: 2, stderr: []string{"--email, --first-name and --last-name are required"}},
		{args: "admin provider list", code: 1, stderr: []string{"no database at DATA/tportal.db", "'tportal demo' prints its --data"}},
		{args: "admin token list", code: 1, stderr: []string{"no database at DATA/tportal.db"}},
		{args: "admin calls", code: 1, stderr: []string{"no database at DATA/tportal.db"}},
		{args: "admin course list --provider x", code: 1, stderr: []string{"no database at DATA/tportal.db"}},
	} {
		t.Run(tt.args, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			t.Setenv("TPORTAL_DATA", data)
			t.Setenv("TPORTAL_DB", "")
			os.Unsetenv("TPORTAL_DB")
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code := exitCode(run(ctx, strings.Fields(tt.args), &stdout, &stderr), &stderr)
			errText := strings.ReplaceAll(stderr.String(), data, "DATA")
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), errText)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errText, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errText)
				}
			}
			if tt.notStderr != "" && strings.Contains(errText, tt.notStderr) {
				t.Errorf("stderr has %q:\n%s", tt.notStderr, errText)
			}
			if tt.stderrOnce != "" && strings.Count(errText, tt.stderrOnce) != 1 {
				t.Errorf("stderr has %q %d times, want once:\n%s", tt.stderrOnce, strings.Count(errText, tt.stderrOnce), errText)
			}
			if _, err := os.Stat(data); err == nil {
				t.Errorf("%q created %s", tt.args, data)
			}
		})
	}
}

// Only commands that create something create a database, and they say where; the
// others then work on it.
func TestAdminCreatesDatabaseOnlyToAddSomething(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		dbURL := storetest.URL(t, dialect)
		env := []string{"TPORTAL_DB=" + dbURL}
		out := adminRun(t, env, 1, "token", "list")
		if !strings.Contains(out, "no database at") {
			t.Errorf("token list on an empty database:\n%s", out)
		}
		out = adminRun(t, env, 0, "token", "create", "--name", "first")
		if !strings.Contains(out, "created a new database at") {
			t.Errorf("token create did not say it created the database:\n%s", out)
		}
		out = adminRun(t, env, 0, "token", "create", "--name", "second", "--expires", "720h")
		if strings.Contains(out, "created a new database") || !strings.Contains(out, "expires: ") {
			t.Errorf("second token create:\n%s", out)
		}
		out = adminRun(t, env, 0, "token", "list")
		if !regexp.MustCompile(`(?m)^1\s+first\s+active\s+\S+\s+-\s+-\s+portal-wide\s*$`).MatchString(out) ||
			!regexp.MustCompile(`(?m)^2\s+second\s+active\s+\S+\s+\d{4}-\d\d-\d\dT\S+\s+-\s+portal-wide\s*$`).MatchString(out) {
			t.Errorf("token list:\n%s", out)
		}
	})
}

// adminRun runs `tportal admin ARGS` in-process and checks its exit status.
func adminRun(t *testing.T, env []string, wantCode int, args ...string) string {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var out bytes.Buffer
	code := exitCode(run(context.Background(), append([]string{"admin"}, args...), &out, &out), &out)
	if code != wantCode {
		t.Fatalf("tportal admin %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out.String())
	}
	return out.String()
}
