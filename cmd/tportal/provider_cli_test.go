package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The provider commands follow the command line's rules (main.go): every level lists
// its subcommands, --help exits 0, a missing or unknown subcommand or a bad flag exits
// 2, and settings read TPORTAL_PROVIDER_ variables.
// tempDataDir, as the value of an env entry, is replaced by a fresh temporary directory.
const tempDataDir = "<temp>"

// tempData points the gateway at a fresh store, for commands that open it.
var tempData = map[string]string{"TPORTAL_PROVIDER_DATA": tempDataDir}

func TestProviderCommandLine(t *testing.T) {
	for _, tt := range []struct {
		args   string
		env    map[string]string
		code   int
		stdout []string // each must appear in stdout
		stderr []string // each must appear in stderr
	}{
		{args: "provider", code: 2, stderr: []string{"Usage: tportal provider COMMAND", "  serve ", "  class add ", "  attendance ", "needs a command"}},
		{args: "provider --help", code: 0, stdout: []string{"  serve ", "  course list ", "  booking list ", "  reconcile "}},
		{args: "provider help", code: 0, stdout: []string{"  class update "}},
		{args: "provider class", code: 2, stderr: []string{"Usage: tportal provider class COMMAND", "  add ", "  cancel ", "  list ", "  restore ", "  update "}},
		{args: "provider class -h", code: 0, stdout: []string{"  add ", "  update "}},
		{args: "provider course", code: 2, stderr: []string{"  add ", "  list "}},
		{args: "provider booking", code: 2, stderr: []string{"  list "}},
		{args: "provider frob", code: 2, stderr: []string{`unknown command "frob" for 'tportal provider'; valid: attendance, booking, class, course, reconcile, serve`}},
		{args: "provider class frob", code: 2, stderr: []string{"valid: add, cancel, list, restore, update"}},
		{args: "provider class add --help", code: 0, stdout: []string{"Usage: tportal provider class add [flags]", "--db (TPORTAL_PROVIDER_DB)", "--seats\n"}},
		{args: "provider serve --help", code: 0, stdout: []string{"--password (TPORTAL_PROVIDER_PASSWORD)", "--push-delay (TPORTAL_PROVIDER_PUSH_DELAY)"}},
		{args: "provider attendance --help", code: 0, stdout: []string{"--booking", "--status"}},
		{args: "provider class add --sets 3", code: 2, stderr: []string{"unknown flag --sets; did you mean --seats?", "'tportal provider class add --help'"}},
		{args: "provider class update --seats many", code: 2, stderr: []string{"--seats \"many\": not a whole number"}},
		{args: "provider serve --push-delay 2", code: 2, stderr: []string{"did you mean 2s?"}},
		{args: "provider course list extra", code: 2, stderr: []string{`unexpected argument "extra"`}},
		{args: "provider serve --help", env: map[string]string{"TPORTAL_PROVIDER_PUSH_DELAY": "soon"}, code: 0},
		{args: "provider course list", env: map[string]string{"TPORTAL_PROVIDER_JOB_POLL": "x", "TPORTAL_PROVIDER_DB": "nope:x"}, code: 1},
		{args: "provider serve", env: map[string]string{"TPORTAL_PROVIDER_PUSH_DELAY": "soon"}, code: 2, stderr: []string{"TPORTAL_PROVIDER_PUSH_DELAY=\"soon\": not a duration"}},
		// Wrong input to a command that opens the store is a usage error too (exit 2),
		// not a failure (exit 1).
		{args: "provider class add --seats 3", env: tempData, code: 2, stderr: []string{"--course and --external-id required"}},
		{args: "provider class update --course c", env: tempData, code: 2, stderr: []string{"--external-id required"}},
		{args: "provider attendance --status COMPLETED", env: tempData, code: 2, stderr: []string{"--booking is required"}},
		{args: "provider attendance --booking x --status FOO", env: tempData, code: 2, stderr: []string{`--status: "FOO" is not one of`}},
		{args: "provider attendance --booking x --status NO_SHOW --date 2026-01-01", env: tempData, code: 2, stderr: []string{"--date is only for COMPLETED"}},
		{args: "provider booking list --status FOO", env: tempData, code: 2, stderr: []string{`--status: "FOO" is not one of`}},
		{args: "provider class update --course c --external-id k", env: tempData, code: 2, stderr: []string{"nothing to change"}},
		{args: "provider serve --portal http://x --username u --password p --format yaml", env: tempData, code: 2, stderr: []string{`--format "yaml"`}},
	} {
		t.Run(tt.args, func(t *testing.T) {
			for k, v := range tt.env {
				if v == tempDataDir {
					v = t.TempDir()
				}
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code := exitCode(run(ctx, strings.Fields(tt.args), &stdout, &stderr), &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}
