package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/mail/smtptest"
	"github.com/tportal/tportal/internal/store/storetest"
)

// `tportal serve --smtp-url` sends a booking's confirmations through the outbox to a
// real SMTP server: the enroller's, and the student's with the calendar invitation.
func TestServeSendsMail(t *testing.T) {
	smtpServer := smtptest.Start(t, "", "")
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"successful":true,"bookingReference":"P-1","errorMessage":""}`))
	}))
	defer provider.Close()
	env := []string{"TPORTAL_DB=" + storetest.URL(t, "sqlite"), "TPORTAL_SMTP_URL=smtp://" + smtpServer.Addr + "?starttls=none"}
	out := tportal(t, env, "admin", "provider", "add", "--name", "Acme", "--username", "acme", "--allow-private-urls",
		"--reserve-url", provider.URL+"/reserve", "--cancel-url", provider.URL+"/cancel")
	password := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)[1]
	tportal(t, env, "admin", "course", "add", "--name", "Basic Safety", "--provider", "acme", "--external-id", "BST")
	token := regexp.MustCompile(`token: (\S+)`).FindStringSubmatch(tportal(t, env, "admin", "token", "create", "--name", "e2e"))[1]

	base := startServe(t, env, "--mail-from", "Trainingportal <noreply@portal.example>", "--public-url", "https://portal.example")
	form := url.Values{"username": {"acme"}, "password": {password}, "externalId": {"C1"}, "location": {"Oslo"},
		"availableSeats": {"10"}, "enrollmentDeadline": {"2030-01-01"}, "cancellationDeadline": {"2030-01-01"},
		"startDate": {"2030-01-02"}, "startTime": {"09:00"}, "endDate": {"2030-01-02"}, "endTime": {"15:00"},
		"address.addressLine1": {"Gate 1"}, "address.city": {"Oslo"}, "address.zipCode": {"0150"}, "address.country": {"NO"},
		"price.currency": {"NOK"}, "price.amount": {"100"}, "sendScheduleInfoToParticipants": {"true"}}
	res, err := http.PostForm(base+"/api/courseprovider/rest/v1/courses/get/BST/courseClasses/add", form)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("addClass: %v %v", res, err)
	}
	res.Body.Close()
	classes := getJSON[[]map[string]any](t, base+"/api/v1/classes", token)
	body, _ := json.Marshal(map[string]any{"classId": classes[0]["id"],
		"student":  map[string]string{"firstName": "Ola", "lastName": "Hansen", "email": "ola@example.com"},
		"enroller": map[string]string{"firstName": "Kari", "lastName": "Nordmann", "email": "kari@example.com"}})
	req, _ := http.NewRequest("POST", base+"/api/v1/bookings", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("booking: %v %v", res, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()

	msgs := smtpServer.Wait(t, 2, 30*time.Second)
	byTo := map[string]string{}
	for _, m := range msgs {
		if m.From != "noreply@portal.example" || len(m.To) != 1 {
			t.Errorf("envelope from %q to %v", m.From, m.To)
			continue
		}
		byTo[m.To[0]] = string(m.Data)
	}
	kari, ola := byTo["kari@example.com"], byTo["ola@example.com"]
	if kari == "" || ola == "" {
		t.Fatalf("mail went to %v, want kari@example.com and ola@example.com", len(byTo))
	}
	for who, raw := range map[string]string{"enroller": kari, "student": ola} {
		m, err := netmail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			t.Fatalf("%s's mail does not parse: %v", who, err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if subject != "Booking confirmed: Basic Safety, 2030-01-02" {
			t.Errorf("%s's subject = %q", who, subject)
		}
	}
	if !strings.Contains(kari, "https://portal.example/bookings/") {
		t.Error("the enroller's mail has no link to the booking on --public-url")
	}
	if !strings.Contains(ola, "invitation.ics") || strings.Contains(kari, "invitation.ics") {
		t.Error("the calendar invitation is not on the student's mail only")
	}
}

func TestMailFlagsAreChecked(t *testing.T) {
	tests := []struct {
		smtpURL, from, publicURL string
		wantErr                  string // "" when accepted
	}{
		{"", "", "", ""},
		{"smtp://u:p@mail.example:587", "Portal <noreply@portal.example>", "https://portal.example", ""},
		{"smtps://mail.example", "noreply@portal.example", "", ""},
		{"smtp://mail.example", "", "", "--smtp-url needs --mail-from"},
		{"smtp://u:secret@mail.example?starttls=maybe", "noreply@portal.example", "", "starttls"},
		{"mail.example:25", "noreply@portal.example", "", "--smtp-url"},
		{"smtp://mail.example", "not an address", "", "--mail-from"},
		{"", "", "portal.example", "--public-url"},
		{"", "", "ftp://portal.example", "--public-url"},
	}
	for _, tt := range tests {
		c := serveConfig{defaultTimeZone: "Europe/Oslo", smtpURL: tt.smtpURL, mailFrom: tt.from, publicURL: tt.publicURL}
		err := c.check()
		if tt.wantErr == "" && err != nil {
			t.Errorf("check(%q, %q, %q) = %v, want accepted", tt.smtpURL, tt.from, tt.publicURL, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("check(%q, %q, %q) = %v, want an error containing %q", tt.smtpURL, tt.from, tt.publicURL, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error shows the SMTP password: %v", err)
		}
	}
}
