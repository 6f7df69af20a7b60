package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway/certificate/certtest"
	"github.com/tportal/tportal/internal/gateway/gwjobs"
	"github.com/tportal/tportal/internal/gateway/gwstore"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
	"github.com/tportal/tportal/tpclient"
)

// process is a tportal process a test started.
type process struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	done chan error
	out  *syncBuffer
}

// startProcess starts the binary with args and the extra environment, logs its output
// if the test fails, and stops it (SIGTERM, then SIGKILL) at the end of the test
// unless it was stopped before.
func startProcess(t *testing.T, name string, env []string, args ...string) *process {
	t.Helper()
	p := &process{t: t, name: name, cmd: exec.Command(binary, args...), done: make(chan error, 1), out: &syncBuffer{}}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out.String())
		}
	})
	return p
}

// stop ends the process gracefully; it is a no-op once the process has ended.
func (p *process) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitOutput waits until the process has printed text, failing the test at once (with
// what its output says) if it exits first.
func (p *process) waitOutput(within time.Duration, text string) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(p.out.String(), text) {
		select {
		case err := <-p.done:
			p.done <- err // for stop and the test
			p.t.Fatalf("%s exited (%v) before it printed %q%s", p.name, err, text, explain(p.out.String()))
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s did not print %q within %s%s", p.name, text, within, explain(p.out.String()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill9 ends the process at once, as a crash or an OOM kill would.
func (p *process) kill9() {
	p.t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		p.t.Fatal(err)
	}
	<-p.done
}

// poll checks cond until it holds, failing the test after the deadline.
func poll(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gatewayE2E is the street: a portal and a provider gateway, each a real process
// with its own database, and the command lines of both.
type gatewayE2E struct {
	t                     *testing.T
	portalEnv             []string
	portalAddr, portalURL string
	portal                *process
	token, password       string
	gwDB, gwAddr          string
	gateway               *process
	reserveURL, cancelURL string
	sdk                   *tpclient.Client
	today                 string
}

// gatewayFlags are the settings of `provider serve`, with short waits for the test.
func (e *gatewayE2E) gatewayFlags() []string {
	return []string{"--db", e.gwDB, "--portal", e.portalURL, "--username", "sjo", "--password", e.password,
		"--allow-private-urls", "--provider-name", "Sjø & Sikkerhet AS", "--push-delay", "200ms", "--job-poll", "100ms",
		"--confirm-backoff", "100ms", "--retry-backoff", "200ms", "--job-rescue-after", "4s"}
}

func (e *gatewayE2E) startGateway() {
	e.t.Helper()
	e.gateway = startProcess(e.t, "gateway", nil, append([]string{"provider", "serve", "--addr", e.gwAddr}, e.gatewayFlags()...)...)
	waitReady(e.t, "http://"+e.gwAddr+"/readyz", e.gateway.done, e.gateway.out)
	poll(e.t, 10*time.Second, "the gateway prints its URLs", func() bool {
		return strings.Contains(e.gateway.out.String(), "cancel URL: ")
	})
	out := e.gateway.out.String()
	e.reserveURL = regexp.MustCompile(`(?m)^reserve URL: (\S+)$`).FindStringSubmatch(out)[1]
	e.cancelURL = regexp.MustCompile(`(?m)^cancel URL: (\S+)$`).FindStringSubmatch(out)[1]
}

// provider runs a `tportal provider` command on the gateway's database.
func (e *gatewayE2E) provider(args ...string) string {
	e.t.Helper()
	return tportal(e.t, nil, append(append([]string{"provider"}, args...), "--db", e.gwDB)...)
}

// portalClass returns the portal's class externalID of course BST, as /api/v1 lists it.
func (e *gatewayE2E) portalClass(externalID string) (map[string]any, bool) {
	e.t.Helper()
	for _, c := range getJSON[[]map[string]any](e.t, e.portalURL+"/api/v1/classes", e.token) {
		if c["externalId"] == externalID && c["courseExternalId"] == "BST" {
			return c, true
		}
	}
	return nil, false
}

func (e *gatewayE2E) portalSeats(externalID string) float64 {
	c, ok := e.portalClass(externalID)
	if !ok {
		return -1
	}
	return c["availableSeats"].(float64)
}

// gatewayQueueIdle reports whether the gateway's job queue has nothing left to do:
// no confirmation, catalogue push or outcome waiting or running. The test reads the
// gateway's database for it, as an operator would; it has no command of its own.
func (e *gatewayE2E) gatewayQueueIdle() bool {
	e.t.Helper()
	db, err := gwstore.Open(context.Background(), e.gwDB)
	if err != nil {
		e.t.Fatalf("open the gateway's database: %v", err)
	}
	defer db.Close()
	table := "river_job"
	if db.Dialect() == "postgres" {
		table = gwjobs.PostgresSchema + ".river_job"
	}
	var waiting int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM ` + table + ` WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled')`).Scan(&waiting); err != nil {
		e.t.Fatalf("count the gateway's jobs: %v", err)
	}
	return waiting == 0
}

// gatewayBooking returns the gateway's booking for the portal's reference.
func (e *gatewayE2E) gatewayBooking(portalRef string) map[string]any {
	e.t.Helper()
	var list []map[string]any
	if err := json.Unmarshal([]byte(e.provider("booking", "list", "--json")), &list); err != nil {
		e.t.Fatal(err)
	}
	for _, b := range list {
		if b["trainingportalBookingReference"] == portalRef {
			return b
		}
	}
	return map[string]any{}
}

func (e *gatewayE2E) book(classID any, first, last string) map[string]any {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"classId": classID,
		"student":  map[string]string{"firstName": first, "lastName": last, "email": "student@example.no"},
		"enroller": map[string]string{"firstName": "Ola", "lastName": "Hansen", "email": "ola@example.no"},
		"company":  "Acme Industri AS"})
	return e.api("POST", "/api/v1/bookings", body, http.StatusCreated)
}

func (e *gatewayE2E) api(method, path string, body []byte, want int) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.portalURL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil || res.StatusCode != want {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, raw, want)
	}
	return v
}

func (e *gatewayE2E) download(path string) []byte {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.portalURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return b
}

// TestGatewayAndPortalEndToEnd runs the portal and the provider gateway as two real
// processes on loopback and checks every flow between them: catalogue push,
// reservation and confirmation, seat counts, cancellation, attendance with a
// certificate, reconcile, and a kill -9 of the gateway with changes queued. The
// portal runs on SQLite; the gateway on SQLite, then on PostgreSQL.
func TestGatewayAndPortalEndToEnd(t *testing.T) {
	gwstoretest.ForEach(t, testGatewayAndPortal)
}

func testGatewayAndPortal(t *testing.T, gatewayDialect string) {
	dir := t.TempDir()
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	e := &gatewayE2E{t: t, portalEnv: []string{"TPORTAL_DB=sqlite:" + filepath.Join(dir, "portal.db")},
		portalAddr: freeAddr(t), gwDB: gwstoretest.URL(t, gatewayDialect), gwAddr: freeAddr(t),
		today: time.Now().In(oslo).Format(time.DateOnly)}
	e.portalURL = "http://" + e.portalAddr

	// Portal staff register the provider and its course; an enroller's system gets a token.
	out := tportal(t, e.portalEnv, "admin", "provider", "add", "--name", "Sjø & Sikkerhet", "--username", "sjo", "--allow-private-urls")
	e.password = regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)[1]
	tportal(t, e.portalEnv, "admin", "course", "add", "--name", "Basic Safety Training", "--provider", "sjo", "--external-id", "BST")
	e.token = regexp.MustCompile(`token: (\S+)`).FindStringSubmatch(tportal(t, e.portalEnv, "admin", "token", "create", "--name", "e2e"))[1]
	e.portal = startPortal(t, e.portalEnv, e.portalAddr)

	// The provider starts its gateway and sends the two URLs it prints to the portal's staff.
	e.startGateway()
	tportal(t, e.portalEnv, "admin", "provider", "set", "--username", "sjo", "--allow-private-urls",
		"--reserve-url", e.reserveURL, "--cancel-url", e.cancelURL)
	e.sdk, err = tpclient.New(e.portalURL+"/api/courseprovider/rest/", "sjo", e.password)
	if err != nil {
		t.Fatal(err)
	}

	// A class added at the provider appears in the portal. It runs today, so that
	// its booking can be completed today.
	e.provider("course", "add", "--external-id", "BST", "--name", "Basic Safety Training")
	e.provider("class", "add", "--course", "BST", "--external-id", "OSL-W40", "--location", "Oslo", "--seats", "12",
		"--start", e.today+"T08:00", "--end", e.today+"T23:30", "--enrollment-deadline", e.today, "--cancellation-deadline", e.today,
		"--price", "12500.00", "--currency", "NOK", "--address", "Karl Johans gate 1", "--city", "Oslo", "--zip", "0154", "--country", "NO")
	poll(t, 20*time.Second, "the class appears in the portal with 12 seats", func() bool { return e.portalSeats("OSL-W40") == 12 })
	class, _ := e.portalClass("OSL-W40")

	// A booking on the portal holds a seat at the provider, which confirms it.
	first := e.book(class["id"], "Øyvind", "Ås")
	if first["status"] != "RESERVED" || first["providerBookingReference"] == "" {
		t.Fatalf("first booking = %v", first)
	}
	ref1 := first["bookingReference"].(string)
	poll(t, 20*time.Second, "the gateway confirms the first booking", func() bool {
		return e.gatewayBooking(ref1)["status"] == "CONFIRMED"
	})
	if b := e.gatewayBooking(ref1); b["reference"] != first["providerBookingReference"] {
		t.Errorf("gateway reference %v, portal's providerBookingReference %v", b["reference"], first["providerBookingReference"])
	}

	// A seat-count change at the provider reaches the portal: 20 seats, one held.
	e.provider("class", "update", "--course", "BST", "--external-id", "OSL-W40", "--seats", "20")
	poll(t, 20*time.Second, "the portal shows 19 free seats", func() bool { return e.portalSeats("OSL-W40") == 19 })

	// A second booking, cancelled on the portal, is released at the provider.
	second := e.book(class["id"], "Kari", "Nordmann")
	ref2 := second["bookingReference"].(string)
	if got := e.api("POST", "/api/v1/bookings/"+ref2+"/cancel", nil, http.StatusOK); got["status"] != "CANCELLED" {
		t.Fatalf("cancel = %v", got)
	}
	if got := e.gatewayBooking(ref2)["status"]; got != "CANCELLED" {
		t.Errorf("gateway's second booking is %v, want CANCELLED", got)
	}
	poll(t, 20*time.Second, "the portal shows 19 free seats again", func() bool { return e.portalSeats("OSL-W40") == 19 })

	// Attendance COMPLETED: the portal shows COMPLETED with a certificate naming the
	// student and the course.
	e.provider("attendance", "--booking", first["providerBookingReference"].(string), "--status", "COMPLETED", "--date", e.today)
	var booking map[string]any
	poll(t, 20*time.Second, "the portal shows the booking COMPLETED with a certificate", func() bool {
		booking = e.api("GET", "/api/v1/bookings/"+ref1, nil, http.StatusOK)
		docs, _ := booking["documents"].([]any)
		return booking["status"] == "COMPLETED" && len(docs) == 1
	})
	if booking["completionDate"] != e.today {
		t.Errorf("completionDate = %v, want %s", booking["completionDate"], e.today)
	}
	doc := booking["documents"].([]any)[0].(map[string]any)
	if doc["documentType"] != "COURSE_CERTIFICATE" || doc["contentType"] != "application/pdf" {
		t.Errorf("document = %v", doc)
	}
	text := certtest.Text(t, e.download(doc["url"].(string)))
	for _, want := range []string{"Øyvind Ås", "Basic Safety Training", "Sjø & Sikkerhet AS"} {
		if !certtest.Contains(text, want) {
			t.Errorf("the certificate's text lacks %q: %q", want, text)
		}
	}

	// Reconcile: a seat count changed at the portal behind the gateway's back is
	// reported by --dry-run, which changes nothing, and repaired without it. The
	// gateway's own pushes must have landed first, or a late one would repair the
	// drift before reconcile sees it.
	poll(t, 20*time.Second, "the gateway's job queue is idle", e.gatewayQueueIdle)
	three := 3
	if _, err := e.sdk.UpdateClass(context.Background(), "BST", tpclient.ClassUpdate{ExternalID: "OSL-W40", AvailableSeats: &three}); err != nil {
		t.Fatal(err)
	}
	portalFlags := []string{"--portal", e.portalURL, "--username", "sjo", "--password", e.password}
	report := e.provider(append([]string{"reconcile", "--dry-run"}, portalFlags...)...)
	if !strings.Contains(report, `BST/OSL-W40: seat count differs: availableSeats gateway "19", portal "3"`) ||
		!strings.Contains(report, "nothing changed (dry run)") || !strings.Contains(report, "course 1/1, class 1/1") {
		t.Errorf("reconcile --dry-run:\n%s", report)
	}
	if got := e.portalSeats("OSL-W40"); got != 3 {
		t.Errorf("after --dry-run the portal shows %v seats, want 3 (unchanged)", got)
	}
	report = e.provider(append([]string{"reconcile"}, portalFlags...)...)
	if !strings.Contains(report, "(repaired)") || !strings.Contains(report, "1 repaired") {
		t.Errorf("reconcile:\n%s", report)
	}
	if got := e.portalSeats("OSL-W40"); got != 19 {
		t.Errorf("after reconcile the portal shows %v seats, want 19", got)
	}

	// kill -9: with the portal down, changes queue at the gateway; the gateway is
	// killed; once both run again, every change reaches the portal.
	e.portal.stop()
	for i := 1; i <= 3; i++ {
		e.provider("class", "add", "--course", "BST", "--external-id", fmt.Sprintf("K%d", i), "--location", "Bergen", "--seats", "5",
			"--start", e.today+"T08:00", "--end", e.today+"T23:30", "--enrollment-deadline", e.today, "--cancellation-deadline", e.today,
			"--price", "900", "--currency", "NOK", "--address", "Bryggen 1", "--city", "Bergen", "--zip", "5003", "--country", "NO")
	}
	e.provider("class", "update", "--course", "BST", "--external-id", "K2", "--seats", "7")
	e.provider("class", "update", "--course", "BST", "--external-id", "OSL-W40", "--seats", "25")
	time.Sleep(500 * time.Millisecond) // let the gateway try and fail against the stopped portal
	e.gateway.kill9()
	e.portal = startPortal(t, e.portalEnv, e.portalAddr)
	for _, k := range []string{"K1", "K2", "K3"} {
		if seats := e.portalSeats(k); seats >= 0 {
			t.Logf("%s reached the portal before the kill (%v seats)", k, seats)
		}
	}
	e.startGateway()
	want := map[string]float64{"K1": 5, "K2": 7, "K3": 5, "OSL-W40": 24}
	poll(t, 60*time.Second, "every change queued before the kill reaches the portal", func() bool {
		for k, seats := range want {
			if e.portalSeats(k) != seats {
				return false
			}
		}
		return true
	})
}

// startPortal starts `tportal serve` at addr (so it can be restarted at the same one).
func startPortal(t *testing.T, env []string, addr string) *process {
	t.Helper()
	p := startProcess(t, "portal "+addr, env, "serve", "--addr", addr, "--allow-private-urls", "--log-level", "warn")
	waitReady(t, "http://"+addr+"/readyz", p.done, p.out)
	return p
}
