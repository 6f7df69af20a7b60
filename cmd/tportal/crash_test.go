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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/store/storetest"
)

// TestKillMidLoad kills a portal with SIGKILL while bookings are in flight, starts
// another on the same database, and repeats every request with its Idempotency-Key
// there, following Retry-After. Nothing is lost (each booking reserved before the
// kill is still reserved), duplicated (one booking per key, one held seat at the
// provider per reserved booking) or overbooked (reserved + available = seats), and no
// booking stays PENDING past its deadline.
func TestKillMidLoad(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		const seats, requests = 20, 40
		const providerTimeout = 2 * time.Second
		var mu sync.Mutex
		held := map[string]bool{} // trainingportalBookingReference -> the provider holds a seat
		var reserveCalls, reserveAnswers atomic.Int32
		provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ref := r.URL.Query().Get("trainingportalBookingReference")
			switch r.URL.Path {
			case "/reserve":
				// The first calls answer at once, the later ones stay in flight long
				// enough to be killed during (within the provider timeout).
				if reserveCalls.Add(1) > 5 {
					time.Sleep(1500 * time.Millisecond)
				}
				mu.Lock()
				held[ref] = true
				mu.Unlock()
				reserveAnswers.Add(1)
				fmt.Fprintf(w, `{"successful":true,"bookingReference":"P-%s"}`, ref)
			case "/cancel":
				mu.Lock()
				delete(held, ref)
				mu.Unlock()
				fmt.Fprint(w, `{"cancelled":true}`)
			}
		}))
		defer provider.Close()

		env := []string{"TPORTAL_DB=" + storetest.URL(t, dialect), "TPORTAL_PROVIDER_TIMEOUT=" + providerTimeout.String()}
		out := tportal(t, env, "admin", "provider", "add", "--name", "Acme", "--username", "acme", "--allow-private-urls",
			"--reserve-url", provider.URL+"/reserve", "--cancel-url", provider.URL+"/cancel")
		password := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)[1]
		tportal(t, env, "admin", "course", "add", "--name", "BST", "--provider", "acme", "--external-id", "BST")
		token := regexp.MustCompile(`token: (\S+)`).FindStringSubmatch(tportal(t, env, "admin", "token", "create", "--name", "load"))[1]

		first, kill := startKillable(t, env)
		form := url.Values{"username": {"acme"}, "password": {password}, "externalId": {"LOAD"}, "location": {"Oslo"},
			"availableSeats": {strconv.Itoa(seats)}, "enrollmentDeadline": {"2030-01-01"}, "cancellationDeadline": {"2030-01-01"},
			"startDate": {"2030-01-02"}, "endDate": {"2030-01-02"}, "address.addressLine1": {"Gate 1"},
			"address.city": {"Oslo"}, "address.zipCode": {"0150"}, "address.country": {"NO"},
			"price.currency": {"NOK"}, "price.amount": {"100"}}
		res, err := http.PostForm(first+"/api/courseprovider/rest/v1/courses/get/BST/courseClasses/add", form)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("addClass: %v %v", res, err)
		}
		classID := getJSON[[]map[string]any](t, first+"/api/v1/classes", token)[0]["id"]
		bodies := make([][]byte, requests)
		for i := range bodies {
			bodies[i], _ = json.Marshal(map[string]any{"classId": classID,
				"student":  map[string]string{"firstName": "S", "lastName": strconv.Itoa(i)},
				"enroller": map[string]string{"email": "enroller@example.com"}})
		}
		book := func(base string, i int) (int, map[string]any, time.Duration, error) {
			req, _ := http.NewRequest("POST", base+"/api/v1/bookings", bytes.NewReader(bodies[i]))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Idempotency-Key", "load-"+strconv.Itoa(i))
			res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				return 0, nil, 0, err
			}
			defer res.Body.Close()
			var body map[string]any
			b, _ := io.ReadAll(res.Body)
			_ = json.Unmarshal(b, &body)
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			return res.StatusCode, body, time.Duration(wait) * time.Second, nil
		}

		// Round one: all at once, then SIGKILL while reserve calls are in flight.
		reservedBefore := map[int]string{} // request -> booking reference answered 201
		var wg sync.WaitGroup
		for i := range requests {
			wg.Go(func() {
				status, body, _, err := book(first, i)
				if err == nil && status == 201 {
					mu.Lock()
					reservedBefore[i] = body["bookingReference"].(string)
					mu.Unlock()
				}
			})
		}
		for deadline := time.Now().Add(10 * time.Second); reserveAnswers.Load() < 5 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond) // the first answers recorded, later calls in flight
		kill()
		wg.Wait()

		// Round two, on a new instance: repeat every request until it has an outcome.
		second := startServe(t, env)
		maxWait := providerTimeout + 15*time.Second
		refOf := map[int]string{}
		for i := range requests {
			for attempt := 0; ; attempt++ {
				status, body, wait, err := book(second, i)
				if err != nil {
					t.Fatalf("request %d on the second instance: %v", i, err)
				}
				if status == 409 && wait > 0 {
					if wait > maxWait || attempt > 5 {
						t.Fatalf("request %d: Retry-After %v (attempt %d); the deadline is at most %v away", i, wait, attempt, maxWait)
					}
					time.Sleep(wait)
					continue
				}
				ref, _ := body["bookingReference"].(string)
				if before, ok := reservedBefore[i]; ok && (status != 201 || ref != before) {
					t.Errorf("request %d was reserved as %s before the kill; the repeat answers %d %s", i, before, status, ref)
				}
				if ref != "" {
					refOf[i] = ref
				}
				break
			}
		}

		list := getJSON[struct {
			Bookings []struct {
				Ref      string `json:"bookingReference"`
				Status   string `json:"status"`
				Provider string `json:"providerBookingReference"`
			} `json:"bookings"`
		}](t, second+"/api/v1/bookings?limit=500", token)
		distinct := map[string]bool{}
		for _, ref := range refOf {
			distinct[ref] = true
		}
		if len(list.Bookings) != len(distinct) {
			t.Errorf("%d bookings stored, %d distinct ones answered to %d keys: a request was duplicated", len(list.Bookings), len(distinct), requests)
		}
		reserved := map[string]bool{}
		for _, b := range list.Bookings {
			switch b.Status {
			case "PENDING":
				t.Errorf("booking %s still PENDING", b.Ref)
			case "RESERVED":
				reserved[b.Ref] = true
			}
		}
		available := getJSON[[]map[string]any](t, second+"/api/v1/classes", token)[0]["availableSeats"].(float64)
		if len(reserved)+int(available) != seats {
			t.Errorf("%d reserved + %v available != %d seats", len(reserved), available, seats)
		}
		// The provider ends up holding exactly the reserved bookings' seats: abandoned
		// reservations it had made are cancelled by the background clean-up.
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			extra, missing := 0, 0
			for ref := range held {
				if !reserved[ref] {
					extra++
				}
			}
			for ref := range reserved {
				if !held[ref] {
					missing++
				}
			}
			mu.Unlock()
			if extra == 0 && missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("the provider holds %d seats the portal does not have reserved, and lacks %d it has", extra, missing)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("%d reserved before the kill, %d reserved in the end, %d reserve calls", len(reservedBefore), len(reserved), reserveCalls.Load())
	})
}

// startKillable starts `tportal serve` and returns its base URL and a function that
// kills it with SIGKILL.
func startKillable(t *testing.T, env []string) (string, func()) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve", "--addr", addr, "--allow-private-urls", "--log-level", "warn")
	cmd.Env = append(os.Environ(), env...)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("killed serve %s logs:\n%s", addr, logs.String())
		}
	})
	waitReady(t, "http://"+addr+"/readyz", done, &logs)
	return "http://" + addr, func() {
		_ = cmd.Process.Kill()
		<-done
	}
}
