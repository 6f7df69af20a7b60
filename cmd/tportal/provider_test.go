package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwstore"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
)

// provider runs `tportal provider ARGS… --db dbURL` through run and returns its
// output and error.
func provider(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(append([]string{"provider"}, args...), "--db", dbURL), &out, &errOut)
	return out.String() + errOut.String(), err
}

var classAdd = []string{"class", "add", "--course", "BST", "--external-id", "OSL-W40", "--location", "Oslo", "--seats", "12",
	"--start", "2027-05-10T09:00", "--end", "2027-05-11T15:30", "--time-zone", "Europe/Oslo",
	"--enrollment-deadline", "2027-05-01", "--cancellation-deadline", "2027-05-05",
	"--price", "12500.00", "--currency", "NOK", "--address", "Karl Johans gate 1", "--city", "Oslo", "--zip", "0154", "--country", "NO"}

func TestProviderCatalogueCommands(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		db := gwstoretest.URL(t, dialect)
		tests := []struct {
			args    []string
			want    string // a part of the output, or of the error
			wantErr bool
		}{
			{[]string{"course", "add", "--external-id", "BST", "--name", "Basic Safety Training"}, "course BST added", false},
			{[]string{"course", "add", "--external-id", "BST", "--name", "Again"}, "course BST already exists", true},
			{classAdd, "class BST/OSL-W40 added: 12 seats, 12 free, 2027-05-10 09:00 – 2027-05-11 15:30 (Europe/Oslo)", false},
			{classAdd, "class OSL-W40 already exists in course BST", true},
			{[]string{"class", "add", "--course", "NOPE", "--external-id", "X"}, "location: is required", true},
			{append([]string{"class", "add", "--course", "NOPE", "--external-id", "X"}, classAdd[6:]...), "unknown course NOPE", true},
			{[]string{"class", "update", "--course", "BST", "--external-id", "OSL-W40", "--seats", "10", "--price", "9900,50"}, "10 seats, 10 free", false},
			{[]string{"class", "update", "--course", "BST", "--external-id", "OSL-W40"}, "nothing to change", true},
			{[]string{"class", "update", "--course", "BST", "--external-id", "NOPE", "--seats", "3"}, "unknown class NOPE in course BST", true},
			{[]string{"class", "update", "--course", "BST", "--external-id", "OSL-W40", "--end", "2027-05-01"}, "end: 2027-05-01 is before the start 2027-05-10", true},
			{[]string{"class", "update", "--external-id", "OSL-W40", "--seats", "3"}, "--course required", true},
			{[]string{"class", "cancel", "--course", "BST", "--external-id", "OSL-W40"}, "class BST/OSL-W40 cancelled", false},
			{[]string{"class", "cancel", "--course", "BST", "--external-id", "OSL-W40"}, "already cancelled", true},
			{[]string{"class", "update", "--course", "BST", "--external-id", "OSL-W40", "--seats", "3"}, "is cancelled; restore it first", true},
			{[]string{"class", "restore", "--course", "BST", "--external-id", "OSL-W40"}, "class BST/OSL-W40 restored", false},
			{[]string{"class", "list"}, "BST     OSL-W40  Oslo      2027-05-10 09:00  2027-05-11 15:30  10     10    9900.50 NOK  published", false},
			{[]string{"course", "list"}, "BST          Basic Safety Training", false},
			{[]string{"booking", "list", "--status", "HELD,nope"}, `--status: "NOPE" is not one of`, true},
			{[]string{"attendance", "--booking", "1001", "--status", "PASSED"}, `status: "PASSED" is not one of COMPLETED, NO_SHOW, FAILED`, true},
			{[]string{"attendance", "--booking", "1001", "--status", "NO_SHOW"}, "no booking 1001", true},
			{[]string{"class", "frobnicate"}, `unknown command "frobnicate" for 'tportal provider class'`, true},
			{[]string{"class", "list", "extra"}, `unexpected argument "extra"`, true},
		}
		for _, tc := range tests {
			out, err := provider(t, db, tc.args...)
			text := out
			if err != nil {
				text += err.Error()
			}
			if (err != nil) != tc.wantErr || !strings.Contains(text, tc.want) {
				t.Errorf("provider %s:\n got %q, %v\nwant %q (error: %v)", strings.Join(tc.args, " "), out, err, tc.want, tc.wantErr)
			}
		}
		out, err := provider(t, db, "class", "list", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var classes []map[string]any
		if err := json.Unmarshal([]byte(out), &classes); err != nil || len(classes) != 1 {
			t.Fatalf("class list --json: %v\n%s", err, out)
		}
		for k, want := range map[string]any{"externalId": "OSL-W40", "courseExternalId": "BST", "availableSeats": 10.0, "cancelled": false,
			"price": map[string]any{"currency": "NOK", "amount": "9900.50"}} {
			if got, _ := json.Marshal(classes[0][k]); string(got) != mustJSON(want) {
				t.Errorf("class list --json: %s = %s, want %s", k, got, mustJSON(want))
			}
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestProviderServe starts `provider serve` through run, with its settings from the
// environment, books a seat through the printed reserve URL, lists the booking,
// cancels a second one and records attendance once the booking is confirmed.
func TestProviderServe(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		db := gwstoretest.URL(t, dialect)
		for _, args := range [][]string{{"course", "add", "--external-id", "BST", "--name", "Basic Safety Training"}, classAdd} {
			if out, err := provider(t, db, args...); err != nil {
				t.Fatal(out, err)
			}
		}
		addr := freeAddr(t)
		t.Setenv("TPORTAL_PROVIDER_ADDR", addr)
		t.Setenv("TPORTAL_PROVIDER_PUBLIC_URL", "http://"+addr+"/tportal/") // as behind a proxy that keeps the path
		t.Setenv("TPORTAL_PROVIDER_PORTAL", "http://127.0.0.1:1/mintra")
		t.Setenv("TPORTAL_PROVIDER_USERNAME", "acme")
		t.Setenv("TPORTAL_PROVIDER_PASSWORD", "secret")
		t.Setenv("TPORTAL_PROVIDER_FORMAT", "xml")
		t.Setenv("TPORTAL_DB", "sqlite:/nonexistent/portal.db") // the portal's setting is never read
		ctx, stop := context.WithCancel(context.Background())
		var out, logs syncBuffer
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"provider", "serve", "--db", db}, &out, &logs) }()
		var reserveURL, cancelURL string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && cancelURL == ""; time.Sleep(20 * time.Millisecond) {
			if m := regexp.MustCompile(`(?m)^reserve URL: (\S+)\ncancel URL: (\S+)$`).FindStringSubmatch(out.String()); m != nil {
				reserveURL, cancelURL = m[1], m[2]
			}
		}
		if cancelURL == "" {
			stop()
			err := <-done
			t.Fatalf("no URLs printed (serve returned %v)%s", err, explain(out.String()+logs.String()))
		}
		if reserveURL != "http://"+addr+"/tportal/reserve" || cancelURL != "http://"+addr+"/tportal/cancel" {
			t.Errorf("printed %s and %s", reserveURL, cancelURL)
		}
		get := func(u string) string {
			res, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return string(b)
		}
		for _, tc := range []struct{ url, want string }{
			{reserveURL + "?externalCourseClassId=OSL-W40&externalCourseId=BST&trainingportalBookingReference=tp-1&studentFirstName=Kari&studentLastName=Nordmann&studentEmailAddress=kari%40example.no",
				"<successful>true</successful><bookingReference>1001</bookingReference>"},
			{reserveURL + "?externalCourseClassId=OSL-W40&trainingportalBookingReference=tp-2", "<bookingReference>1002</bookingReference>"},
			{cancelURL + "?bookingReference=1002&trainingportalBookingReference=tp-2", "<cancelled>true</cancelled>"},
		} {
			if got := get(tc.url); !strings.Contains(got, tc.want) {
				t.Errorf("GET %s: %s, want %s", tc.url, got, tc.want)
			}
		}
		stop()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v", err)
		}

		list, err := provider(t, db, "booking", "list", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var bookings []bookingJSON
		if err := json.Unmarshal([]byte(list), &bookings); err != nil || len(bookings) != 2 {
			t.Fatalf("booking list --json: %v\n%s", err, list)
		}
		want := bookingJSON{Reference: "1001", TrainingportalBookingReference: "tp-1", Course: "BST", Class: "OSL-W40", Status: "HELD",
			Student: personJSON{"Kari", "Nordmann", "kari@example.no"}}
		got := bookings[0]
		got.Created = time.Time{}
		if got != want || bookings[1].Status != "CANCELLED" {
			t.Errorf("booking list --json:\n got %+v\nwant %+v", bookings, want)
		}

		// The portal confirms the booking (the confirmation job's part), then attendance.
		store, err := gwstore.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		_, err = gateway.NewReference(store).Confirm(context.Background(), "1001")
		store.Close()
		if err != nil {
			t.Fatal(err)
		}
		if out, err := provider(t, db, "attendance", "--booking", "1001", "--status", "COMPLETED", "--date", "2030-01-01"); err == nil || !strings.Contains(err.Error(), "is in the future") {
			t.Errorf("attendance in the future: %s %v", out, err)
		}
		if out, err := provider(t, db, "attendance", "--booking", "1001", "--status", "NO_SHOW"); err != nil || out != "booking 1001 is NO_SHOW\n" {
			t.Errorf("attendance: %q %v", out, err)
		}
	})
}

func TestProviderServeSettings(t *testing.T) {
	db := gwstoretest.URL(t, "sqlite")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--portal, --username, --password required"},
		{[]string{"serve", "--portal", "ftp://x", "--username", "u", "--password", "p"}, `--portal "ftp://x": tpclient: base URL "ftp://x/api/courseprovider/rest/": must be an absolute http or https URL`},
		{[]string{"serve", "--portal", "http://x", "--username", "u", "--password", "p", "--format", "yaml"}, `--format "yaml": use json or xml`},
		{[]string{"serve", "--portal", "http://x", "--username", "u", "--password", "p", "--allow-ip", "10.0.0.0/99"}, "--allow-ip:"},
		{[]string{"serve", "--portal", "http://x", "--username", "u", "--password", "p", "--proxy-header", "X-Forwarded-For"}, "only matter with --allow-ip"},
		{[]string{"serve", "--portal", "http://x", "--username", "u", "--password", "p", "--public-url", "provider.example/x"}, `--public-url "provider.example/x": use the gateway's http(s) base URL`},
	}
	for _, tc := range tests {
		if _, err := provider(t, db, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("provider %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
