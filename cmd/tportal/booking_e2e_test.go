package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/store/storetest"
)

// startServe starts `tportal serve` on a free address and returns its base URL.
func startServe(t *testing.T, env []string, extra ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, append([]string{"serve", "--addr", addr, "--allow-private-urls", "--log-level", "warn"}, extra...)...)
	cmd.Env = append(os.Environ(), env...)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("serve %s logs:\n%s", addr, logs.String())
		}
	})
	waitReady(t, "http://"+addr+"/readyz", done, &logs)
	return "http://" + addr
}

// TestTwoPortalsNeverOverbook runs two `tportal serve` processes on one database and
// sends 200 concurrent bookings for a class with 10 seats, half to each.
func TestTwoPortalsNeverOverbook(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		var reserves atomic.Int32
		provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := reserves.Add(1)
			fmt.Fprintf(w, `{"successful":true,"bookingReference":"P-%d","errorMessage":""}`, n)
		}))
		defer provider.Close()

		env := []string{"TPORTAL_DB=" + storetest.URL(t, dialect)}
		out := tportal(t, env, "admin", "provider", "add", "--name", "Acme", "--username", "acme", "--allow-private-urls",
			"--reserve-url", provider.URL+"/reserve", "--cancel-url", provider.URL+"/cancel")
		password := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)[1]
		tportal(t, env, "admin", "course", "add", "--name", "BST", "--provider", "acme", "--external-id", "BST")
		token := regexp.MustCompile(`token: (\S+)`).FindStringSubmatch(tportal(t, env, "admin", "token", "create", "--name", "e2e"))[1]

		a := startServe(t, env)
		b := startServe(t, env)
		form := url.Values{"username": {"acme"}, "password": {password}, "externalId": {"TEN"}, "location": {"Oslo"},
			"availableSeats": {"10"}, "enrollmentDeadline": {"2030-01-01"}, "cancellationDeadline": {"2030-01-01"},
			"startDate": {"2030-01-02"}, "endDate": {"2030-01-02"}, "address.addressLine1": {"Gate 1"},
			"address.city": {"Oslo"}, "address.zipCode": {"0150"}, "address.country": {"NO"},
			"price.currency": {"NOK"}, "price.amount": {"100"}}
		res, err := http.PostForm(a+"/api/courseprovider/rest/v1/courses/get/BST/courseClasses/add", form)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("addClass: %v %v", res, err)
		}
		res.Body.Close()
		classes := getJSON[[]map[string]any](t, b+"/api/v1/classes", token)
		if len(classes) != 1 {
			t.Fatalf("classes = %v", classes)
		}
		classID := classes[0]["id"]

		statuses := map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				base := a
				if i%2 == 1 {
					base = b
				}
				body, _ := json.Marshal(map[string]any{"classId": classID,
					"student":  map[string]string{"firstName": "S", "lastName": fmt.Sprint(i), "email": fmt.Sprintf("s%d@example.com", i)},
					"enroller": map[string]string{"firstName": "E", "lastName": "E", "email": "enroller@example.com"}})
				req, _ := http.NewRequest("POST", base+"/api/v1/bookings", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				mu.Lock()
				statuses[res.StatusCode]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if statuses[201] != 10 || statuses[409] != 190 {
			t.Errorf("statuses = %v, want 10×201 and 190×409", statuses)
		}
		if n := reserves.Load(); n != 10 {
			t.Errorf("the provider got %d reserve calls, want 10", n)
		}
		classes = getJSON[[]map[string]any](t, a+"/api/v1/classes", token)
		if classes[0]["availableSeats"] != 0.0 {
			t.Errorf("availableSeats = %v, want 0", classes[0]["availableSeats"])
		}
		calls := tportal(t, env, "admin", "calls", "--limit", "100")
		if n := len(regexp.MustCompile(`(?m)^\S+\s+Acme\s+reserve\s+200\s`).FindAllString(calls, -1)); n != 10 {
			t.Errorf("the journal lists %d answered reserve calls, want 10:\n%s", n, calls)
		}
		metrics := getText(t, a+"/metrics")
		if !strings.Contains(metrics, `tportal_bookings{state="RESERVED"} 10`) {
			t.Errorf("metrics do not count 10 reserved bookings")
		}
		// On SQLite each instance counts the writes of its group commits: each of
		// its 100 bookings tried to take a seat.
		if m := regexp.MustCompile(`(?m)^tportal_sqlite_group_commit_writers_total (\d+)$`).FindStringSubmatch(metrics); dialect == "sqlite" {
			if m == nil {
				t.Error("metrics have no tportal_sqlite_group_commit_writers_total")
			} else if n, _ := strconv.Atoi(m[1]); n < 100 {
				t.Errorf("metrics count %d writes in SQLite group commits, want at least 100", n)
			}
		} else if m != nil {
			t.Errorf("PostgreSQL reports SQLite group commits: %v", m)
		}
	})
}

func getJSON[T any](t *testing.T, u, token string) T {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v T
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
	}
	return v
}

func getText(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
