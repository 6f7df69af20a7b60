package providercall

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestJournalKeepsRequestAndAnswer: the journal entry holds the request's method and
// parameters without personal data, and the start of the answer as received.
func TestJournalKeepsRequestAndAnswer(t *testing.T) {
	// An odd prefix, so the cut falls inside a two-byte "ø".
	long := `{"successful":false,"errorMessage":"x` + strings.Repeat("ø", JournalBodyBytes) + `"}`
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		wantBody                string
		truncated               bool
	}{
		{"readable answer", "application/json", `{"successful":true,"bookingReference":"P-1"}`, 200, `{"successful":true,"bookingReference":"P-1"}`, false},
		{"error page", "text/html", "<html>Bad gateway</html>", 502, "<html>Bad gateway</html>", false},
		{"long answer cut at a character", "application/json", long, 200, long[:JournalBodyBytes-1], true},
		{"binary answer", "application/octet-stream", "ok\x00\xff", 200, "ok\uFFFD\uFFFD", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := provider(t, answer(tc.status, tc.contentType, tc.body))
			j := &memJournal{}
			c := testClient(j, Options{})
			r := testReserve
			r.Student.Email, r.Company = "kari@example.com", "Firma AS"
			_, _ = c.Reserve(context.Background(), Target{ReserveURL: base + "/r"}, r)
			got := j.only(t)
			if got.RequestMethod != "GET" {
				t.Errorf("method %q", got.RequestMethod)
			}
			for _, line := range []string{"externalCourseClassId=CL-1\n", "trainingportalBookingReference=tp-ref-1\n",
				"studentFirstName=REDACTED\n", "studentEmailAddress=REDACTED\n", "studentPhoneNumber=\n", "company=Firma AS\n"} {
				if !strings.Contains(got.RequestParams, line) {
					t.Errorf("request parameters lack %q:\n%s", line, got.RequestParams)
				}
			}
			for _, personal := range []string{"Kari", "Nordmann", "kari@example.com"} {
				if strings.Contains(got.RequestParams, personal) {
					t.Errorf("request parameters hold %q:\n%s", personal, got.RequestParams)
				}
			}
			if got.HTTPStatus != tc.status || got.AnswerContentType != tc.contentType {
				t.Errorf("answer %d %q", got.HTTPStatus, got.AnswerContentType)
			}
			if got.AnswerBody != tc.wantBody || got.AnswerTruncated != tc.truncated || !utf8.ValidString(got.AnswerBody) {
				t.Errorf("answer body (%d bytes, truncated %v) = %.80q…, want %.80q… (truncated %v)",
					len(got.AnswerBody), got.AnswerTruncated, got.AnswerBody, tc.wantBody, tc.truncated)
			}
		})
	}
}

func TestSummarizeTimes(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var calls []Call
	for i := 1; i <= 20; i++ { // B: 10, 20, ... 200 ms, the last one failed
		c := Call{ProviderID: 2, ProviderName: "B", Latency: ms(10 * (21 - i)), Outcome: OutcomeAnswered}
		if i == 1 {
			c.Outcome = OutcomeFailed
		}
		calls = append(calls, c)
	}
	calls = append(calls, Call{ProviderID: 1, ProviderName: "A", Latency: ms(5), Outcome: OutcomeAnswered})
	got := SummarizeTimes(calls)
	want := []ProviderTimes{
		{ProviderID: 1, ProviderName: "A", Calls: 1, P50: ms(5), P95: ms(5), Max: ms(5)},
		{ProviderID: 2, ProviderName: "B", Calls: 20, Failed: 1, P50: ms(100), P95: ms(190), Max: ms(200)},
	}
	if !slices.Equal(got, want) {
		t.Errorf("SummarizeTimes\n%+v\nwant\n%+v", got, want)
	}
	if got := SummarizeTimes(nil); len(got) != 0 {
		t.Errorf("no calls: %+v", got)
	}
}
