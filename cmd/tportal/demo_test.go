package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo runs `tportal demo`, follows every command it prints (curl lines through
// Go's HTTP client, tportal lines through the binary), stops it with SIGINT, starts
// it again on the same --data and follows the printed steps again.
func TestDemo(t *testing.T) {
	data := t.TempDir()
	portalAddr, gatewayAddr := freeAddr(t), freeAddr(t)
	for run := 1; run <= 2; run++ {
		p := startProcess(t, "demo", nil, "demo", "--data", data, "--addr", portalAddr, "--provider-addr", gatewayAddr)
		p.waitOutput(90*time.Second, "Press Ctrl-C")
		followDemoSteps(t, p.out.String(), filepath.Join(data, "provider"))
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-p.done:
			if err != nil {
				t.Fatalf("run %d: the demo exited with %v", run, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("run %d: the demo did not stop within 30s of SIGINT", run)
		}
		if !strings.Contains(p.out.String(), "demo stopped") {
			t.Errorf("run %d: the demo did not log its shutdown:\n%s", run, p.out.String())
		}
	}
	// The seed ran once: the past class has its three completed bookings, no more.
	past := tportal(t, nil, "provider", "booking", "list", "--data", filepath.Join(data, "provider"), "--class", "BGO-PAST")
	if n := strings.Count(past, "COMPLETED"); n != 3 {
		t.Errorf("the past class has %d completed bookings after two runs, want 3:\n%s", n, past)
	}
}

// followDemoSteps runs the demo's printed commands in order and checks each step.
func followDemoSteps(t *testing.T, out, providerData string) {
	t.Helper()
	portal := regexp.MustCompile(`Open (http://\S+)/ in a browser`).FindStringSubmatch(out)
	if portal == nil {
		t.Fatalf("no front page printed:\n%s", out)
	}
	if status, body := httpGet(t, portal[1]+"/"); status != 200 || !strings.Contains(body, "<html") {
		t.Errorf("front page: %d %q", status, body)
	}
	if !strings.Contains(out, "--data "+providerData+"\n") {
		t.Errorf("the provider commands' --data %s is not printed:\n%s", providerData, out)
	}
	var commands [][]string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  curl ") || strings.HasPrefix(line, "  "+binary+" ") {
			commands = append(commands, shellWords(t, strings.TrimSpace(line)))
		}
	}
	if len(commands) != 8 {
		t.Fatalf("printed %d commands, want 8:\n%s", len(commands), out)
	}
	var booked struct {
		BookingReference, Status, ProviderBookingReference string
	}
	// 1) book: RESERVED.
	status, body := curl(t, commands[0])
	if err := json.Unmarshal([]byte(body), &booked); err != nil || status != http.StatusCreated || booked.Status != "RESERVED" || booked.ProviderBookingReference == "" {
		t.Fatalf("step 1: %d %s", status, body)
	}
	token := regexp.MustCompile(`Bearer (\S+?)'`).FindStringSubmatch(out)[1]
	// 2) the provider confirms it.
	poll(t, 20*time.Second, "step 2 shows the booking CONFIRMED", func() bool {
		return regexp.MustCompile(`(?m)^` + booked.ProviderBookingReference + `\s.*CONFIRMED`).MatchString(runCLI(t, commands[1]))
	})
	// 3) seats change at the provider; the portal follows.
	updated := runCLI(t, commands[2])
	m := regexp.MustCompile(`: 45 seats, (\d+) free`).FindStringSubmatch(updated)
	if m == nil {
		t.Fatalf("step 3: %s", updated)
	}
	poll(t, 20*time.Second, "step 3's curl shows availableSeats "+m[1], func() bool {
		_, body := curl(t, commands[3])
		return strings.Contains(body, `"availableSeats":`+m[1]+`,`)
	})
	// 4) attendance, with REF from step 1's answer: the portal's booking turns COMPLETED with a certificate.
	attendance := commands[4]
	for i, a := range attendance {
		if a == "REF" {
			attendance[i] = booked.ProviderBookingReference
		}
	}
	if got := runCLI(t, attendance); !strings.Contains(got, "COMPLETED") {
		t.Fatalf("step 4: %s", got)
	}
	poll(t, 20*time.Second, "the portal shows the step-1 booking COMPLETED with a certificate", func() bool {
		_, body := curl(t, []string{"curl", "-s", portal[1] + "/api/v1/bookings/" + booked.BookingReference, "-H", "Authorization: Bearer " + token})
		return strings.Contains(body, `"status":"COMPLETED"`) && strings.Contains(body, `"documentType":"COURSE_CERTIFICATE"`)
	})
	// 5) the past class's certificate downloads as a PDF.
	dir := t.TempDir()
	if status, _ := curlIn(t, dir, commands[5]); status != 200 {
		t.Fatalf("step 5: %d", status)
	}
	if pdf, err := os.ReadFile(filepath.Join(dir, "certificate.pdf")); err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("step 5 saved no PDF: %v %.20q", err, pdf)
	}
	// The admin and provider examples run.
	if got := runCLI(t, commands[6]); !strings.Contains(got, "demo ") {
		t.Errorf("admin example: %s", got)
	}
	if got := runCLI(t, commands[7]); !strings.Contains(got, "BGO-PAST") {
		t.Errorf("provider example: %s", got)
	}
	// The enroller signs in and sees the company's bookings; the staff account signs
	// in and sees the demo provider on the staff pages.
	signIns := regexp.MustCompile(`(?m)^  e-mail:   (\S+)\n  password: (\S+)$`).FindAllStringSubmatch(out, -1)
	if len(signIns) != 2 {
		t.Fatalf("want an enroller's and a staff sign-in printed:\n%s", out)
	}
	enroller, staff := signIns[0], signIns[1]
	if page := demoStaffPage(t, portal[1], enroller[1], enroller[2], "/bookings"); !strings.Contains(page, demoEnrollerCompany) {
		t.Errorf("the enroller's bookings page does not name %q:\n%s", demoEnrollerCompany, page)
	}
	if page := demoStaffPage(t, portal[1], staff[1], staff[2], "/staff/providers"); !strings.Contains(page, demoProviderName) {
		t.Errorf("the staff's providers page does not list %q:\n%s", demoProviderName, page)
	}
}

// runCLI runs a printed tportal command line through the binary.
func runCLI(t *testing.T, words []string) string {
	t.Helper()
	if words[0] != binary {
		t.Fatalf("not a tportal command: %q", words)
	}
	return tportal(t, nil, words[1:]...)
}

// curl runs a printed curl command line through Go's HTTP client.
func curl(t *testing.T, words []string) (int, string) { return curlIn(t, "", words) }

// curlIn is curl with -o FILE written under dir. It knows the options the demo prints.
func curlIn(t *testing.T, dir string, words []string) (int, string) {
	t.Helper()
	method, target, output := "GET", "", ""
	var body io.Reader
	header := http.Header{}
	for i := 1; i < len(words); i++ {
		switch words[i] {
		case "-s":
		case "-X":
			i++
			method = words[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(words[i], ": ")
			header.Add(k, v)
		case "-d":
			i++
			body = strings.NewReader(words[i])
		case "-o":
			i++
			output = filepath.Join(dir, words[i])
		default:
			if strings.HasPrefix(words[i], "-") || target != "" {
				t.Fatalf("curl option %q not understood in %q", words[i], words)
			}
			target = words[i]
		}
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	if output != "" {
		if err := os.WriteFile(output, got, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode, string(got)
}

// shellWords splits a command line as a POSIX shell would, for the quoting the demo
// prints: plain words and single-quoted strings.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			word.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case r == '"' || r == '\\' || r == '$':
			t.Fatalf("the test's shell splitter does not handle %q in %s", r, line)
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %s", line)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	return curl(t, []string{"curl", u})
}

// demoStaffPage signs in on the portal's web pages as a browser does and returns the
// page at path.
func demoStaffPage(t *testing.T, portalURL, email, password, path string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, portalURL+"/signin", strings.NewReader(url.Values{"email": {email}, "password": {password}, "next": {path}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", portalURL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != path {
		t.Fatalf("staff sign-in ended at %s with %d:\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	return string(body)
}
