package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/freeaddr"
	"github.com/tportal/tportal/internal/store/storetest"
)

// binary is the real tportal binary, built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tportal-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "tportal")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func tportal(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tportal %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// freeAddr returns a loopback address for a process the test starts, free when it
// returns. The process binds it later, and meanwhile the port must not be taken: a
// port the kernel hands out for 127.0.0.1:0 comes from the ephemeral range, which
// every outgoing connection on the machine draws from too (other tests' clients,
// benchmarks), so the port is picked outside that range, where only an explicit bind
// can take it. If one does, waitReady says so.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := freeaddr.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestEndToEnd drives the real binary: admin commands, then serve (configured through
// the environment), a provider call over HTTP, and a graceful shutdown on SIGTERM.
func TestEndToEnd(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		env := []string{"TPORTAL_DB=" + storetest.URL(t, dialect)}
		out := tportal(t, env, "admin", "provider", "add", "--name", "Acme Safety", "--username", "acme",
			"--reserve-url", "https://booking.example.com/reserve?class={externalCourseClassId}")
		m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("provider add printed no password:\n%s", out)
		}
		password := m[1]
		tportal(t, env, "admin", "course", "add", "--name", "Basic Safety Training", "--provider", "acme", "--external-id", "BST")
		if out := tportal(t, env, "admin", "provider", "list"); !strings.Contains(out, "acme") || !strings.Contains(out, "booking.example.com") || strings.Contains(out, password) {
			t.Errorf("provider list:\n%s", out)
		}
		if out := tportal(t, env, "admin", "course", "list", "--provider", "acme"); !strings.Contains(out, "BST") {
			t.Errorf("course list:\n%s", out)
		}

		// Refused input gets a clear message and a non-zero exit.
		cmd := exec.Command(binary, "admin", "provider", "add", "--name", "X", "--username", "acme")
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "taken") {
			t.Errorf("duplicate username: err %v, output %s", err, out)
		}

		addr := freeAddr(t)
		var logs syncBuffer
		serve := exec.Command(binary, "serve")
		serve.Env = append(os.Environ(), append(env, "TPORTAL_ADDR="+addr, "TPORTAL_LOG_FORMAT=json")...)
		serve.Stdout, serve.Stderr = &logs, &logs
		if err := serve.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- serve.Wait() }()
		t.Cleanup(func() { _ = serve.Process.Kill() })
		waitReady(t, "http://"+addr+"/readyz", done, &logs)

		form := url.Values{"username": {"acme"}, "password": {password}, "externalId": {"E2E"}, "location": {"Oslo"},
			"availableSeats": {"5"}, "enrollmentDeadline": {"2030-01-01"}, "cancellationDeadline": {"2030-01-01"},
			"startDate": {"2030-01-02"}, "endDate": {"2030-01-02"}, "address.addressLine1": {"Gate 1"},
			"address.city": {"Oslo"}, "address.zipCode": {"0150"}, "address.country": {"NO"},
			"price.currency": {"NOK"}, "price.amount": {"100"}}
		res, err := http.PostForm("http://"+addr+"/api/courseprovider/rest/v1/courses/get/BST/courseClasses/add", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("addClass through the binary: %d", res.StatusCode)
		}
		res, err = http.Get("http://" + addr + "/api/courseprovider/rest/v1/courses/get/BST/courseClasses?username=acme&password=" + password)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()

		if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve exited with %v after SIGTERM\n%s", err, logs.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop within 20s of SIGTERM")
		}
		if strings.Contains(logs.String(), password) {
			t.Error("the password appears in the logs")
		}
		if !strings.Contains(logs.String(), `"route":"GET /api/courseprovider/rest/v1/courses/get/{externalCourseId}/courseClasses"`) {
			t.Errorf("no structured request log:\n%s", logs.String())
		}
	})
}

// waitReady waits until u answers 200. If the process exits first or takes too long,
// the test fails with its output and what the output says happened.
func waitReady(t *testing.T, u string, exited <-chan error, out fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("the process for %s exited before it was ready (%v)%s", u, err, explain(out.String()))
		default:
		}
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready within 30s%s", u, explain(out.String()))
}

// explain is what a failed start's output says, for the failure message.
func explain(out string) string {
	switch {
	case out == "":
		return ", with no output"
	case strings.Contains(out, "address already in use"):
		return ": another process took its port between the test's pick and its bind; its output:\n" + out
	}
	return "; its output:\n" + out
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
