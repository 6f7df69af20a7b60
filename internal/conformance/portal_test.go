package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/api/courseprovider"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/server"
	"github.com/tportal/tportal/internal/store/storetest"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	auth.BcryptCost = bcrypt.MinCost // the race detector makes default-cost hashes take a second each
	os.Exit(m.Run())
}

// startPortal serves this project's portal over a real database on a real
// HTTP server, with one provider "acme" owning the course BST. It returns the
// server's URL and acme's password.
func startPortal(t *testing.T, dialect string) (root, password string, cat *catalog.Service) {
	t.Helper()
	db := storetest.Open(t, dialect)
	cat = &catalog.Service{Store: db, DefaultZone: "Europe/Oslo"}
	ctx := context.Background()
	password, hash, err := auth.NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.AddProvider(ctx, catalog.Provider{Name: "Acme Safety", Username: "acme", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.AddCourse(ctx, "acme", catalog.Course{Name: "Basic Safety Training", ExternalID: "BST", Description: "GWO BST"}); err != nil {
		t.Fatal(err)
	}
	reg := server.NewRegistry()
	bookings := &booking.Service{Store: db, Caller: providercall.BookingCaller{Client: providercall.New(providercall.Options{AllowPrivateURLs: true, Timeout: 2 * time.Second})}}
	api := &courseprovider.API{Catalog: cat, Bookings: bookings, Auth: auth.New(db)}
	srv := httptest.NewServer(server.Handler(db, reg, server.NewMetrics(reg), slog.New(slog.NewTextHandler(io.Discard, nil)), api))
	t.Cleanup(srv.Close)
	return srv.URL, password, cat
}

func TestPortalSuiteAgainstThisPortal(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		root, password, cat := startPortal(t, dialect)
		// A bare host gets this portal's base; the public service's base works too.
		for _, base := range []string{root, root + "/mintra/api/courseprovider/rest"} {
			var progress bytes.Buffer
			rep := RunPortal(context.Background(), PortalConfig{BaseURL: base, Username: "acme", Password: password, Course: "BST", Progress: Progress{W: &progress}})
			var text bytes.Buffer
			rep.WriteText(&text)
			if !rep.Passed() || rep.Count(Pass) != len(rep.Results) {
				t.Errorf("against %s, want every scenario to pass:\n%s", base, text.String())
			}
			if res, _ := rep.Result(ScenarioRestoreClass); !strings.Contains(res.Why, "deleted it at once") {
				t.Errorf("restore: %s", res.Why)
			}
			if n := strings.Count(progress.String(), "\n"); n != len(rep.Results) {
				t.Errorf("%d progress lines for %d scenarios", n, len(rep.Results))
			}
		}
		// The suite removed what it created: no class of its is left published.
		acme, err := cat.Store.ProviderByUsername(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		classes, err := cat.Classes(context.Background(), acme, "BST")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range classes {
			if !c.Cancelled() {
				t.Errorf("class %s left published after the run", c.ExternalID)
			}
		}
	})
}

func TestPortalSuiteWrongPassword(t *testing.T) {
	root, password, _ := startPortal(t, "sqlite")
	start := time.Now()
	rep := RunPortal(context.Background(), PortalConfig{BaseURL: root, Username: "acme", Password: password + "x", Course: "BST"})
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("a refused password took %s to report", took)
	}
	res, _ := rep.Result(ScenarioCredentials)
	if rep.Passed() || res.Status != Fail || !strings.Contains(res.Why, `the portal refused the credentials of "acme" (HTTP 401`) {
		t.Fatalf("credentials: %s %q", res.Status, res.Why)
	}
	for _, r := range rep.Results[1 : len(rep.Results)-1] {
		if r.Status != Skip || !strings.Contains(r.Why, ScenarioCredentials+" failed") {
			t.Errorf("%s: %s %q, want skipped after the refusal", r.Name, r.Status, r.Why)
		}
	}
	// The reports CI reads say the same.
	var junit, js bytes.Buffer
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Failures int `xml:"failures,attr"`
		Suite    struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(junit.Bytes(), &suites); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, junit.String())
	}
	if suites.Failures != 1 || suites.Suite.Cases[0].Name != ScenarioCredentials || suites.Suite.Cases[0].Failure == nil ||
		!strings.Contains(suites.Suite.Cases[0].Failure.Message, "refused the credentials") {
		t.Errorf("JUnit:\n%s", junit.String())
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Passed    bool
		Counts    map[string]int
		Scenarios []struct{ Name, Status, Why string }
	}
	if err := json.Unmarshal(js.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Passed || out.Counts["FAIL"] != 1 || out.Scenarios[0].Status != "FAIL" || !strings.Contains(out.Scenarios[0].Why, "refused the credentials") {
		t.Errorf("JSON:\n%s", js.String())
	}
}
