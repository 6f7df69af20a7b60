package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// conformanceRun runs `tportal conformance …` and returns its output and exit status.
func conformanceRun(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"conformance"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestConformancePortal runs the portal suite against the real `tportal serve`.
func TestConformancePortal(t *testing.T) {
	env := []string{"TPORTAL_DB=sqlite:" + filepath.Join(t.TempDir(), "tportal.db")}
	out := tportal(t, env, "admin", "provider", "add", "--name", "Acme Safety", "--username", "acme")
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("provider add printed no password:\n%s", out)
	}
	tportal(t, env, "admin", "course", "add", "--name", "Basic Safety Training", "--provider", "acme", "--external-id", "BST")
	base := startServe(t, env)
	dir := t.TempDir()
	junitPath, jsonPath := filepath.Join(dir, "report.xml"), filepath.Join(dir, "report.json")

	// The password comes from the environment, as a CI secret would.
	stdout, stderr, code := conformanceRun(t, []string{"TPORTAL_PASSWORD=" + m[1]}, "portal", "--base-url", base,
		"--username", "acme", "--course", "BST", "--junit", junitPath, "--json", jsonPath)
	if code != 0 || !strings.Contains(stdout, "PASSED: 17 scenarios, 17 passed") {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "[17/17] "+"clean-up") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	var junit struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if b, err := os.ReadFile(junitPath); err != nil || xml.Unmarshal(b, &junit) != nil || junit.Tests != 17 || junit.Failures != 0 {
		t.Errorf("JUnit report: %+v, %v\n%s", junit, err, b)
	}
	var report struct{ Passed bool }
	if b, err := os.ReadFile(jsonPath); err != nil || json.Unmarshal(b, &report) != nil || !report.Passed {
		t.Errorf("JSON report: %v\n%s", err, b)
	}

	stdout, _, code = conformanceRun(t, nil, "portal", "--base-url", base, "--username", "acme", "--password", "wrong", "--course", "BST")
	if code != 1 || !strings.Contains(stdout, `FAIL  credentials accepted`) || !strings.Contains(stdout, `the portal refused the credentials of "acme" (HTTP 401`) {
		t.Errorf("wrong password: exit %d, want 1 and a clear message\n%s", code, stdout)
	}
}

// TestConformanceProvider runs the provider suite against a provider that
// answers HTML, and one that gets everything right but never confirms.
func TestConformanceProvider(t *testing.T) {
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Log in</body></html>")
	}))
	defer html.Close()
	stdout, stderr, code := conformanceRun(t, nil, "provider", "--reserve-url", html.URL+"/reserve", "--cancel-url", html.URL+"/cancel",
		"--class", "BST-1", "--confirm-wait", "100ms")
	if code != 1 || !regexp.MustCompile(`FAIL  reserve answered in JSON +\S+: provider's answer is HTML`).MatchString(stdout) {
		t.Errorf("HTML provider: exit %d, want 1 and the failing scenario named\n%s", code, stdout)
	}
	if !regexp.MustCompile(`stand-in portal for getBookingInformation: http://127\.0\.0\.1:\d+/api/courseprovider/rest/`).MatchString(stderr) {
		t.Errorf("the stand-in portal's URL is not printed:\n%s", stderr)
	}

	var (
		mu    sync.Mutex
		refs  = map[string]string{}
		seats = 3
	)
	good := http.NewServeMux()
	good.HandleFunc("/reserve/{class}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ref, ok := refs[r.URL.Query().Get("trainingportalBookingReference")]
		switch {
		case ok:
		case r.PathValue("class") != "BST-1":
			fmt.Fprint(w, `{"successful":false,"errorMessage":"no such class"}`)
			return
		default:
			seats--
			ref = fmt.Sprintf("P-%d", len(refs)+1)
			refs[r.URL.Query().Get("trainingportalBookingReference")] = ref
		}
		fmt.Fprintf(w, `{"successful":true,"bookingReference":%q}`, ref)
	})
	good.HandleFunc("/cancel", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		for k, ref := range refs {
			if ref == r.URL.Query().Get("bookingReference") {
				seats++
				delete(refs, k)
			}
		}
		fmt.Fprint(w, `<answer><cancelled>true</cancelled></answer>`)
	})
	srv := httptest.NewServer(good)
	defer srv.Close()
	stdout, _, code = conformanceRun(t, nil, "provider", "--reserve-url", srv.URL+"/reserve/{externalCourseClassId}",
		"--cancel-url", srv.URL+"/cancel", "--class", "BST-1", "--confirm-wait", "100ms")
	if code != 0 || !strings.Contains(stdout, "WARN  provider confirms its reservations") || !strings.Contains(stdout, "PASSED") {
		t.Errorf("right provider that never confirms: exit %d, want 0 with a warning\n%s", code, stdout)
	}
	if seats != 3 {
		t.Errorf("%d seats left after the run, want the 3 the provider had", seats)
	}
}

func TestConformanceHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"provider", "--help"}, {"portal", "-h"}} {
		stdout, stderr, code := conformanceRun(t, nil, args...)
		if code != 0 || !strings.Contains(stdout+stderr, "Usage:") {
			t.Errorf("%v: exit %d, want 0 and the usage\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
	}
}

func TestConformanceUsage(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"shop"}, `unknown conformance suite "shop"`},
		{[]string{"provider", "--class", "X"}, "--reserve-url is required"},
		{[]string{"provider", "--reserve-url", "ftp://p.example/r", "--cancel-url", "https://p.example/c", "--class", "X"}, "not an absolute http or https URL"},
		{[]string{"provider", "--reserve-url", "https://{host}/r", "--cancel-url", "https://p.example/c", "--class", "X"}, "not allowed in the scheme or host"},
		{[]string{"provider", "--reserve-url", "https://p.example/r", "--cancel-url", "https://p.example/c"}, "--class is required"},
		{[]string{"provider", "--reserve-url", "https://p.example/r", "--cancel-url", "https://p.example/c", "--class", "X", "--budget", "0s"}, "--budget must be positive"},
		{[]string{"portal", "--base-url", "https://p.example"}, "--username is required"},
		{[]string{"portal", "--base-url", "p.example", "--username", "u", "--password", "p", "--course", "C"}, "not an absolute http or https URL"},
		{[]string{"portal", "--bogus"}, "unknown flag --bogus"},
		{[]string{"provider", "--reserve-url", "https://p.example/r", "--cancel-url", "https://p.example/c", "--class", "X", "--portal-addr", "999.0.0.1:1"}, "--portal-addr 999.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := conformanceRun(t, nil, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want 2 and %q\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
		})
	}
}

// TestConformanceAgainstGateway runs the provider suite against the real provider
// gateway (`tportal provider serve`), signatures on, its portal pointed at the kit's
// stand-in portal, where the gateway confirms its reservations.
func TestConformanceAgainstGateway(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "gateway.db")
	gw := func(args ...string) string {
		t.Helper()
		return tportal(t, nil, append(append([]string{"provider"}, args...), "--db", db)...)
	}
	gw("course", "add", "--external-id", "BST", "--name", "Basic Safety Training")
	start := time.Now().AddDate(0, 3, 0)
	for _, c := range []struct {
		id    string
		seats string
	}{{"BST-1", "5"}, {"BST-FULL", "0"}} {
		gw("class", "add", "--course", "BST", "--external-id", c.id, "--location", "Oslo", "--seats", c.seats,
			"--start", start.Format("2006-01-02")+"T09:00", "--end", start.Format("2006-01-02")+"T15:30",
			"--enrollment-deadline", start.AddDate(0, 0, -7).Format(time.DateOnly),
			"--cancellation-deadline", start.AddDate(0, 0, -3).Format(time.DateOnly),
			"--price", "4990.00", "--currency", "NOK", "--address", "Testveien 1", "--city", "Oslo", "--zip", "0150", "--country", "NO")
	}

	standIn, addr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(binary, "provider", "serve", "--db", db, "--addr", addr, "--secret", "s3cret", "--log-level", "warn",
		"--portal", "http://"+standIn+"/api/courseprovider/rest/", "--username", "acme", "--password", "pw", "--allow-private-urls")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-done
		if t.Failed() {
			t.Logf("gateway logs:\n%s", logs.String())
		}
	}()
	waitReady(t, "http://"+addr+"/readyz", done, &logs)

	stdout, stderr, code := conformanceRun(t, nil, "provider", "--reserve-url", "http://"+addr+"/reserve", "--cancel-url", "http://"+addr+"/cancel",
		"--class", "BST-1", "--course", "BST", "--sold-out-class", "BST-FULL", "--secret", "s3cret",
		"--portal-addr", standIn, "--portal-username", "acme", "--portal-password", "pw", "--confirm-wait", "10s")
	if code != 0 || !strings.Contains(stdout, "PASSED: 14 scenarios, 14 passed") {
		t.Errorf("exit %d, want 0 with every scenario passed, the gateway's confirmation included\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// The gateway has every seat back: the kit cancelled what it reserved.
	var classes []struct {
		ExternalID     string `json:"externalId"`
		AvailableSeats int    `json:"availableSeats"`
	}
	if err := json.Unmarshal([]byte(gw("class", "list", "--course", "BST", "--json")), &classes); err != nil {
		t.Fatal(err)
	}
	for _, c := range classes {
		if c.ExternalID == "BST-1" && c.AvailableSeats != 5 {
			t.Errorf("BST-1 has %d free seats after the run, want 5", c.AvailableSeats)
		}
	}
}
