package providercall

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// The marks of a dry call: a reserve call the portal makes only to test a
// provider's reserve URL, never to take a seat. It carries all three, so that a
// provider who checks any one of them can answer without reserving, and one who
// checks none still reserves nothing, as no course or class has these ids.
const (
	// TestHeader is sent with the value TestMarker on a dry call.
	TestHeader = "X-Tportal-Test"
	// TestParam is a query parameter sent with the value TestMarker on a dry call;
	// unlike the header it is covered by the signature.
	TestParam = "tportalTest"
	// TestMarker is the value of TestHeader and TestParam.
	TestMarker = "url-check"
	// TestID is the externalCourseId and externalCourseClassId of a dry call: an
	// id no course or class has.
	TestID = "tportal-url-test"
	// TestReference is the trainingportalBookingReference of a dry call, a
	// reference reserved for tests that no booking ever gets.
	TestReference = "TP-URL-TEST"
)

// DryRun is what a dry call to a reserve URL found, for a person deciding whether
// the URL works.
type DryRun struct {
	URL        string        // the URL called, secrets redacted; "" when none could be made
	HTTPStatus int           // 0 when there was no answer
	Latency    time.Duration // until the answer was read, or the call failed
	// Readable is set when the answer could be read as a reserve answer, in which
	// case Answer holds it; Problem then is "".
	Readable bool
	Answer   ReserveAnswer
	// Problem says why there was no readable answer: no connection, a status that
	// is not 2xx, HTML, an answer the parser refused.
	Problem string
	// Refused is set when the call was not made: the SSRF guard refused the address
	// (or a redirect's), or the URL could not be filled in.
	Refused bool
	Signed  bool   // whether the call carried a signature
	Body    string // the start of the answer's body, for a person to read
}

// TestReserve makes a dry call to t's reserve URL through the same guard, signing,
// timeouts and parser as a real reserve call, marked as a test (TestHeader,
// TestParam, TestID, TestReference) so that it can never take a seat. It is neither
// journaled nor counted in the metrics, which are about bookings; it is logged.
func (c *Client) TestReserve(ctx context.Context, t Target) DryRun {
	start := time.Now()
	params := append(reserveParams(ReserveRequest{
		ExternalCourseClassID: TestID, ExternalCourseID: TestID, BookingReference: TestReference,
		Student:  Person{FirstName: "Test", LastName: "Trainingportal"},
		Enroller: Person{FirstName: "Test", LastName: "Trainingportal"},
		Company:  "Trainingportal URL test",
	}), Param{Name: TestParam, Value: TestMarker})
	header := http.Header{TestHeader: {TestMarker}}
	rec := Call{At: c.o.Now(), ProviderID: t.ProviderID, ProviderName: t.ProviderName, Kind: KindReserve, BookingReference: TestReference}
	var run DryRun
	cerr := c.do(ctx, KindReserve, t, t.ReserveURL, params, header, func(body []byte) (bool, string, error) {
		run.Body = excerpt(body, 500)
		ans, err := ParseReserveAnswer(body)
		run.Answer = ans
		return ans.Successful, ans.ErrorMessage, err
	}, &rec)
	run.Latency, run.URL, run.HTTPStatus = time.Since(start), rec.URL, rec.HTTPStatus
	run.Signed = len(t.Secret) > 0 && !(cerr != nil && cerr.Refused)
	if cerr != nil {
		run.Problem, run.Refused = cerr.Reason, cerr.Refused
		run.Answer = ReserveAnswer{ErrorMessage: cerr.ProviderMessage}
		var refused *RefusedError
		if errors.As(cerr, &refused) {
			run.Refused = true
		}
	} else {
		run.Readable = true
	}
	c.log.InfoContext(ctx, "provider URL test", "provider_id", t.ProviderID, "provider", t.ProviderName, "url", run.URL,
		"status", run.HTTPStatus, "latency", run.Latency, "readable", run.Readable, "refused", run.Refused, "problem", run.Problem)
	return run
}
