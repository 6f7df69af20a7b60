package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/tpclient/signing"
)

// ProviderConfig says which provider to test and how.
type ProviderConfig struct {
	// ReserveURL and CancelURL are the provider's URLs as registered at the
	// portal, templates allowed (SPEC §3).
	ReserveURL, CancelURL string
	// Class is the externalCourseClassId of a class with at least two free
	// seats; Course its externalCourseId (optional, sent when given).
	Class, Course string
	// SoldOutClass is a class with no free seat; the sold-out scenario is
	// skipped when it is empty.
	SoldOutClass string
	// Secret is the shared secret the portal signs calls with (as
	// tpclient/signing does); the signature scenarios are skipped when it is empty.
	Secret []byte
	// Timeout bounds each call (default 10s, as the portal's); Budget is the
	// answer time the provider should stay within (default 2s).
	Timeout, Budget time.Duration
	// Portal is the stand-in portal the provider confirms bookings with; the
	// confirmation scenario is skipped when it is nil. ConfirmWait is how long
	// to wait for the provider to confirm (default 15s).
	Portal      *Portal
	ConfirmWait time.Duration
	// Client makes the calls; nil means a client of its own.
	Client   *http.Client
	Progress Progress
}

// The defaults of ProviderConfig.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultBudget      = 2 * time.Second
	DefaultConfirmWait = 15 * time.Second
)

// maxAnswerBytes is the largest answer the portal reads (SPEC §3).
const maxAnswerBytes = 64 << 10

// The provider suite's scenarios, in the order they run.
const (
	ScenarioReserveJSON   = "reserve answered in JSON"
	ScenarioReserveXML    = "reserve answered in XML"
	ScenarioRepeatReserve = "repeated reserve takes no second seat"
	ScenarioUnknownClass  = "reserve of an unknown class is refused"
	ScenarioSoldOut       = "reserve of a sold-out class is refused"
	ScenarioUnsigned      = "unsigned call is refused"
	ScenarioBadSignature  = "call with a wrong signature is refused"
	ScenarioStale         = "call with a stale signature is refused"
	ScenarioConfirmed     = "provider confirms its reservations"
	ScenarioCancel        = "cancel of a reservation"
	ScenarioCancelRepeat  = "repeated cancel is idempotent"
	ScenarioCancelUnknown = "cancel of an unknown booking"
	ScenarioAnswerTime    = "answer time within budget"
	ScenarioCleanup       = "clean-up: every reservation cancelled"
)

// CheckProviderConfig reports what is wrong with c for the command line:
// missing URLs or class, URLs that are not absolute http(s) templates.
func CheckProviderConfig(c ProviderConfig) error {
	var problems []string
	for _, u := range []struct{ flag, value string }{{"--reserve-url", c.ReserveURL}, {"--cancel-url", c.CancelURL}} {
		if u.value == "" {
			problems = append(problems, u.flag+" is required")
			continue
		}
		if err := checkTemplate(u.value); err != nil {
			problems = append(problems, fmt.Sprintf("%s %q: %v", u.flag, u.value, err))
		}
	}
	if strings.TrimSpace(c.Class) == "" {
		problems = append(problems, "--class is required (the externalCourseClassId of a class with at least two free seats)")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkTemplate expands a URL template with sample values and checks that it
// is an absolute http or https URL.
func checkTemplate(tmpl string) error {
	sample := []providercall.Param{}
	for _, n := range append(reserveNames, "bookingReference", "providerBookingReference", "enrollmentReference") {
		sample = append(sample, providercall.Param{Name: n, Value: "x"})
	}
	raw, err := providercall.ExpandURL(tmpl, sample)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "providercall: "))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New("not an absolute http or https URL")
	}
	return nil
}

// reserveNames are the reserve call's parameters (SPEC §3), in the order sent.
var reserveNames = []string{
	"externalCourseClassId", "externalCourseId", "trainingportalBookingReference",
	"studentFirstName", "studentLastName", "studentEmailAddress", "studentPhoneNumber", "studentBirthDate",
	"enrollerFirstName", "enrollerLastName", "enrollerEmailAddress", "enrollerPhoneNumber", "company",
}

// The test people: realistic, and plainly a test.
var (
	testStudent  = person{FirstName: "Kari", LastName: "Nordmann", Email: "kari.nordmann@example.com", Phone: "4791234567"}
	testEnroller = person{FirstName: "Ola", LastName: "Testesen", Email: "ola.testesen@example.com", Phone: "4798765432"}
)

const (
	testBirthDate = "1990-05-17"
	testCompany   = "Conformance Test AS"
)

// signMode says how a call is signed.
type signMode int

const (
	signValid signMode = iota
	signNone
	signWrongSecret
	signStale
)

// staleBy is how old a stale signature is: well beyond the five minutes a
// verifier allows (signing.DefaultMaxSkew).
const staleBy = time.Hour

// call is one call to a provider and what came back.
type call struct {
	url     string // as sent, without its query
	status  int
	body    []byte
	latency time.Duration
	err     error // no answer at all, or an answer over the size limit
}

// reservation is one booking the suite asked the provider for.
type reservation struct {
	ref         string // the portal's (the kit's) reference
	providerRef string // the provider's, once it answered successful
	extraRefs   []string
	cancelled   bool
	// lost is set when the provider gave no usable answer: it may hold a
	// seat under a reference the kit never learnt, so the clean-up cancels
	// by trainingportalBookingReference alone, as the portal does (SPEC §4).
	lost bool
}

// providerSuite holds one run's state.
type providerSuite struct {
	c      ProviderConfig
	client *http.Client

	mu           sync.Mutex
	reservations []*reservation
	slowest      call
	slowestWhat  string
	calls        int
	timedOut     []string // the calls that got no answer within the timeout

	first, xml  *reservation // the reservations the later scenarios use
	unknownRef  string       // a provider reference that names nothing
	unknownBook string       // a portal reference that names nothing
}

// RunProvider runs the provider suite against c and returns its report. It
// cancels every reservation it made before it returns, also when ctx ends.
func RunProvider(ctx context.Context, c ProviderConfig) Report {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Budget <= 0 {
		c.Budget = DefaultBudget
	}
	if c.ConfirmWait <= 0 {
		c.ConfirmWait = DefaultConfirmWait
	}
	s := &providerSuite{c: c, client: c.Client, unknownRef: "tpconf-unknown-" + rand.Text(), unknownBook: rand.Text()}
	if s.client == nil {
		// Redirects are followed as the portal does, a few times; the
		// signature is the caller's business (see providercall).
		s.client = &http.Client{}
	}
	target := fmt.Sprintf("reserve %s, cancel %s, class %s", providercall.RedactURL(c.ReserveURL), providercall.RedactURL(c.CancelURL), c.Class)
	scenarios := []scenario{
		{name: ScenarioReserveJSON, run: s.reserveJSON},
		{name: ScenarioReserveXML, run: s.reserveXML},
		{name: ScenarioRepeatReserve, run: s.repeatReserve},
		{name: ScenarioUnknownClass, run: s.unknownClass},
		{name: ScenarioSoldOut, run: s.soldOut},
		{name: ScenarioUnsigned, run: s.refusedSignature(signNone)},
		{name: ScenarioBadSignature, run: s.refusedSignature(signWrongSecret)},
		{name: ScenarioStale, run: s.refusedSignature(signStale)},
		{name: ScenarioConfirmed, run: s.confirmed},
		{name: ScenarioCancel, run: s.cancel},
		{name: ScenarioCancelRepeat, run: s.cancelRepeat},
		{name: ScenarioCancelUnknown, run: s.cancelUnknown},
		{name: ScenarioAnswerTime, run: s.answerTime},
		{name: ScenarioCleanup, run: s.cleanup, cleanup: true},
	}
	return runSuite(ctx, "provider", target, scenarios, c.Progress)
}

// get calls a provider URL template with params, as the portal does: GET,
// values placed by the template or appended to the query, signed when a
// secret is set.
func (s *providerSuite) get(ctx context.Context, what, tmpl string, params []providercall.Param, accept string, sig signMode) call {
	raw, err := providercall.ExpandURL(tmpl, params)
	if err != nil {
		return call{err: err}
	}
	res := call{url: withoutQuery(raw)}
	cctx, cancel := context.WithTimeout(ctx, s.c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, raw, nil)
	if err != nil {
		res.err = err
		return res
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "tportal-conformance/1")
	if len(s.c.Secret) > 0 {
		switch sig {
		case signValid:
			signing.SignRequest(req, s.c.Secret, time.Now())
		case signWrongSecret:
			signing.SignRequest(req, append([]byte("not-"), s.c.Secret...), time.Now())
		case signStale:
			signing.SignRequest(req, s.c.Secret, time.Now().Add(-staleBy))
		}
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL holds the test data
		}
		res.err = err
		if cctx.Err() != nil && ctx.Err() == nil {
			res.err = fmt.Errorf("no answer within %s", s.c.Timeout)
			s.mu.Lock()
			s.timedOut = append(s.timedOut, what)
			s.mu.Unlock()
		}
		return res
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	res.body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	res.latency = time.Since(start)
	switch {
	case err != nil:
		res.err = fmt.Errorf("answer broken off: %v", err)
	case len(res.body) > maxAnswerBytes:
		res.err = fmt.Errorf("answer is larger than %d KiB, the most the portal reads", maxAnswerBytes>>10)
	}
	s.mu.Lock()
	s.calls++
	if res.err == nil && res.latency > s.slowest.latency {
		s.slowest, s.slowestWhat = res, what
	}
	s.mu.Unlock()
	return res
}

// withoutQuery is a called URL as a report shows it: the query holds the
// test data and makes lines long.
func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return providercall.RedactURL(raw)
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}

// problem says why a call got no answer the portal can use (SPEC §3: no
// answer, a non-2xx status, over 64 KiB), or "" when it did.
func (c call) problem() string {
	switch {
	case c.err != nil:
		return "no usable answer: " + c.err.Error()
	case c.status < 200 || c.status > 299:
		return fmt.Sprintf("answered HTTP %d %s (the portal takes any non-2xx status as a failed call): %s",
			c.status, http.StatusText(c.status), excerpt(c.body, 200))
	}
	return ""
}

// format names what the body looks like.
func format(body []byte) string {
	b := bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimSpace(body), []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(b) == 0:
		return "empty"
	case b[0] == '{':
		return "JSON"
	case b[0] == '<':
		return "XML"
	}
	return "text"
}

// reason strips the package prefix off a parse error.
func reason(err error) string { return strings.TrimPrefix(err.Error(), "providercall: ") }

// reserveParams are a reserve call's parameters for the class and reference.
func (s *providerSuite) reserveParams(class, ref string) []providercall.Param {
	values := []string{
		class, s.c.Course, ref,
		testStudent.FirstName, testStudent.LastName, testStudent.Email, testStudent.Phone, testBirthDate,
		testEnroller.FirstName, testEnroller.LastName, testEnroller.Email, testEnroller.Phone, testCompany,
	}
	params := make([]providercall.Param, len(reserveNames))
	for i, n := range reserveNames {
		params[i] = providercall.Param{Name: n, Value: values[i]}
	}
	return params
}

// reserve asks for a seat with a new reference (or r's, to repeat it) and
// reads the answer as the portal would. problem is why the answer is not
// usable, "" when it is.
func (s *providerSuite) reserve(ctx context.Context, what, class string, r *reservation, accept string, sig signMode) (_ *reservation, ans providercall.ReserveAnswer, c call, problem string) {
	if r == nil {
		r = &reservation{ref: rand.Text()}
		s.mu.Lock()
		s.reservations = append(s.reservations, r)
		s.mu.Unlock()
	}
	if s.c.Portal != nil {
		s.c.Portal.reserving(&standInBooking{ref: r.ref, class: class, course: s.c.Course,
			student: testStudent, enroller: testEnroller, company: testCompany, providerRef: r.providerRef})
	}
	c = s.get(ctx, what, s.c.ReserveURL, s.reserveParams(class, r.ref), accept, sig)
	problem = c.problem()
	if problem == "" {
		var err error
		if ans, err = providercall.ParseReserveAnswer(c.body); err != nil {
			problem = reason(err)
		}
	}
	if problem != "" && sig == signValid {
		s.mu.Lock()
		r.lost = r.providerRef == ""
		s.mu.Unlock()
	}
	if problem == "" && ans.Successful {
		s.mu.Lock()
		switch {
		case r.providerRef == "":
			r.providerRef = ans.ProviderBookingReference
		case ans.ProviderBookingReference != r.providerRef:
			r.extraRefs = append(r.extraRefs, ans.ProviderBookingReference)
		}
		s.mu.Unlock()
	}
	if s.c.Portal != nil {
		ref := ""
		if problem == "" && ans.Successful {
			ref = ans.ProviderBookingReference
		}
		s.c.Portal.reserved(r.ref, ref)
	}
	return r, ans, c, problem
}

func (s *providerSuite) reserveJSON(ctx context.Context) outcome {
	return s.reserveIn(ctx, "JSON", "application/json", &s.first)
}

func (s *providerSuite) reserveXML(ctx context.Context) outcome {
	return s.reserveIn(ctx, "XML", "application/xml", &s.xml)
}

// reserveIn reserves a seat asking for answers in format, and keeps the
// reservation in *keep for the later scenarios.
func (s *providerSuite) reserveIn(ctx context.Context, want, accept string, keep **reservation) outcome {
	r, ans, c, problem := s.reserve(ctx, "reserve ("+want+")", s.c.Class, nil, accept, signValid)
	switch {
	case problem != "":
		return fail("%s: %s", c.url, problem)
	case !ans.Successful:
		return fail("provider answered successful:false for class %s: %q (is the class open with free seats?)", s.c.Class, ans.ErrorMessage)
	case ans.ProviderBookingReference == "":
		return fail("provider answered successful:true without a bookingReference; the portal needs the provider's reference to cancel")
	}
	*keep = r
	got := format(c.body)
	note := ""
	if got != want {
		note = fmt.Sprintf("; answered %s to Accept: %s (allowed: the portal reads either)", got, accept)
	}
	return pass("bookingReference %q%s", ans.ProviderBookingReference, note)
}

func (s *providerSuite) repeatReserve(ctx context.Context) outcome {
	if s.first == nil {
		return skip("needs the reservation of %q", ScenarioReserveJSON)
	}
	_, ans, _, problem := s.reserve(ctx, "repeated reserve", s.c.Class, s.first, "application/json", signValid)
	switch {
	case problem != "":
		return fail("repeating the call with trainingportalBookingReference %s: %s", s.first.ref, problem)
	case !ans.Successful:
		return fail("repeating the call with trainingportalBookingReference %s answered successful:false (%q); a repeat must answer as the first call did", s.first.ref, ans.ErrorMessage)
	case ans.ProviderBookingReference != s.first.providerRef:
		return fail("provider took a second seat: the repeat with trainingportalBookingReference %s answered bookingReference %q, the first call %q (SPEC §5: idempotent on trainingportalBookingReference)",
			s.first.ref, ans.ProviderBookingReference, s.first.providerRef)
	}
	return pass("same bookingReference %q for trainingportalBookingReference %s", ans.ProviderBookingReference, s.first.ref)
}

// refused checks a reserve answer that should be a refusal with a message.
func refused(ans providercall.ReserveAnswer, c call, problem, what string) outcome {
	switch {
	case problem != "":
		return fail("%s: %s (SPEC §5: answer successful:false with an errorMessage)", c.url, problem)
	case ans.Successful:
		return fail("provider reserved a seat (bookingReference %q) for %s; the kit cancels it", ans.ProviderBookingReference, what)
	case strings.TrimSpace(ans.ErrorMessage) == "":
		return fail("provider answered successful:false without an errorMessage; the enroller would see no reason")
	}
	return pass("successful:false, errorMessage %q", ans.ErrorMessage)
}

func (s *providerSuite) unknownClass(ctx context.Context) outcome {
	class := "tpconf-no-such-class-" + rand.Text()[:8]
	_, ans, c, problem := s.reserve(ctx, "reserve of an unknown class", class, nil, "application/json", signValid)
	return refused(ans, c, problem, "the unknown class "+class)
}

func (s *providerSuite) soldOut(ctx context.Context) outcome {
	if s.c.SoldOutClass == "" {
		return skip("no --sold-out-class given")
	}
	_, ans, c, problem := s.reserve(ctx, "reserve of a sold-out class", s.c.SoldOutClass, nil, "application/json", signValid)
	return refused(ans, c, problem, "the sold-out class "+s.c.SoldOutClass)
}

// refusedSignature returns the scenario that sends a reserve call signed the
// wrong way and expects it refused: a non-2xx status, or successful:false.
func (s *providerSuite) refusedSignature(sig signMode) func(context.Context) outcome {
	return func(ctx context.Context) outcome {
		if len(s.c.Secret) == 0 {
			return skip("no --secret given; the portal signs calls only for providers with a secret")
		}
		what := map[signMode]string{signNone: "without a signature", signWrongSecret: "signed with a wrong secret",
			signStale: fmt.Sprintf("signed %s ago", staleBy)}[sig]
		_, ans, c, problem := s.reserve(ctx, "reserve "+what, s.c.Class, nil, "application/json", sig)
		switch {
		case c.err != nil:
			return fail("%s: %s", c.url, problem)
		case c.status >= 200 && c.status <= 299 && problem == "" && ans.Successful:
			return fail("provider reserved a seat (bookingReference %q) for a call %s; anyone could book through it (the kit cancels it)", ans.ProviderBookingReference, what)
		case c.status >= 200 && c.status <= 299 && problem != "":
			return fail("a call %s got HTTP %d with an unreadable answer: %s; refuse it with a 401 or 403", what, c.status, problem)
		case c.status >= 200 && c.status <= 299:
			return pass("successful:false, errorMessage %q", ans.ErrorMessage)
		}
		return pass("HTTP %d %s", c.status, http.StatusText(c.status))
	}
}

// confirmed waits until the provider has read each reservation from the
// stand-in portal, or ConfirmWait has passed.
func (s *providerSuite) confirmed(ctx context.Context) outcome {
	if s.c.Portal == nil {
		return skip("no stand-in portal")
	}
	var made []*reservation
	for _, r := range []*reservation{s.first, s.xml} {
		if r != nil {
			made = append(made, r)
		}
	}
	if len(made) == 0 {
		return skip("no reservation was made")
	}
	deadline := time.NewTimer(s.c.ConfirmWait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var missing, how []string
		for _, r := range made {
			ok, by := s.c.Portal.confirmation(r.ref)
			if !ok {
				missing = append(missing, r.ref)
			} else {
				how = append(how, by)
			}
		}
		if len(missing) == 0 {
			return pass("the provider read all %d reservations from %s (by %s)", len(made), s.c.Portal.URL(), strings.Join(dedupe(how), " and "))
		}
		select {
		case <-ctx.Done():
			return skip("interrupted")
		case <-tick.C:
			continue
		case <-deadline.C:
		}
		lookups, refusedCalls := s.c.Portal.calls()
		switch {
		case lookups == 0:
			return warn("the provider never called getBookingInformation at %s within %s; point the provider's portal URL there to test its confirmation step", s.c.Portal.URL(), s.c.ConfirmWait)
		case refusedCalls == lookups:
			return fail("all %d getBookingInformation calls carried wrong credentials (--portal-username/--portal-password)", lookups)
		}
		return fail("%d of %d reservations not confirmed within %s (%s), though the provider made %d getBookingInformation calls",
			len(missing), len(made), s.c.ConfirmWait, strings.Join(missing, ", "), lookups)
	}
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// cancelCall sends the cancel URL for a provider reference and a portal reference.
func (s *providerSuite) cancelCall(ctx context.Context, what, providerRef, ref string) (providercall.CancelAnswer, call, string) {
	params := []providercall.Param{
		{Name: "bookingReference", Value: providerRef, Aliases: []string{"providerBookingReference", "enrollmentReference"}},
		{Name: "trainingportalBookingReference", Value: ref},
	}
	c := s.get(ctx, what, s.c.CancelURL, params, "application/json", signValid)
	if problem := c.problem(); problem != "" {
		return providercall.CancelAnswer{}, c, problem
	}
	ans, err := providercall.ParseCancelAnswer(c.body)
	if err != nil {
		return ans, c, reason(err)
	}
	return ans, c, ""
}

func (s *providerSuite) cancel(ctx context.Context) outcome {
	if s.first == nil {
		return skip("needs the reservation of %q", ScenarioReserveJSON)
	}
	ans, c, problem := s.cancelCall(ctx, "cancel", s.first.providerRef, s.first.ref)
	switch {
	case problem != "":
		return fail("%s: %s", c.url, problem)
	case !ans.Cancelled:
		return fail("provider answered cancelled:false for its own reservation %q: %q", s.first.providerRef, ans.ErrorMessage)
	}
	s.markCancelled(s.first)
	return pass("cancelled:true for bookingReference %q", s.first.providerRef)
}

func (s *providerSuite) markCancelled(r *reservation) {
	s.mu.Lock()
	r.cancelled = true
	s.mu.Unlock()
	if s.c.Portal != nil {
		s.c.Portal.cancelled(r.ref)
	}
}

func (s *providerSuite) cancelRepeat(ctx context.Context) outcome {
	if s.first == nil || !s.first.cancelled {
		return skip("needs the cancellation of %q", ScenarioCancel)
	}
	ans, c, problem := s.cancelCall(ctx, "repeated cancel", s.first.providerRef, s.first.ref)
	switch {
	case problem != "":
		return fail("%s: %s (the portal retries a clean-up until it gets a readable answer)", c.url, problem)
	case !ans.Cancelled:
		return fail("repeating a cancel answered cancelled:false (%q); SPEC §5: the cancel URL is idempotent", ans.ErrorMessage)
	}
	return pass("cancelled:true again")
}

// cancelUnknown sends a cancel for references the provider never gave. SPEC §4
// has the portal send such calls when it cleans up a reservation whose answer
// it never got, and retry until the answer is readable; so a readable
// cancelled:true (nothing left to cancel: idempotent) or cancelled:false with
// a message both conform, and anything unreadable does not.
func (s *providerSuite) cancelUnknown(ctx context.Context) outcome {
	ans, c, problem := s.cancelCall(ctx, "cancel of an unknown booking", s.unknownRef, s.unknownBook)
	switch {
	case problem != "":
		return fail("%s: %s (the portal's clean-up of a lost reservation would retry for ever)", c.url, problem)
	case ans.Cancelled:
		return pass("cancelled:true (idempotent: nothing to cancel)")
	case strings.TrimSpace(ans.ErrorMessage) == "":
		return fail("cancelled:false without an errorMessage")
	}
	return pass("cancelled:false, errorMessage %q", ans.ErrorMessage)
}

func (s *providerSuite) answerTime(context.Context) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.timedOut) > 0 {
		return fail("%d calls got no answer within %s (%s), over the budget of %s", len(s.timedOut), s.c.Timeout, strings.Join(dedupe(s.timedOut), ", "), s.c.Budget)
	}
	if s.calls == 0 || s.slowest.latency == 0 {
		return skip("no call was answered")
	}
	if s.slowest.latency > s.c.Budget {
		return fail("the slowest answer (%s) took %s, over the budget of %s", s.slowestWhat, s.slowest.latency.Round(time.Millisecond), s.c.Budget)
	}
	return pass("slowest of %d answers: %s in %s (budget %s)", s.calls, s.slowestWhat, s.slowest.latency.Round(time.Millisecond), s.c.Budget)
}

// cleanup cancels every reservation the provider made and the suite has not
// cancelled yet, including any second seat a repeated reserve took. A
// reservation whose answer was unusable is cancelled by
// trainingportalBookingReference alone, and any readable answer settles it.
func (s *providerSuite) cleanup(ctx context.Context) outcome {
	type task struct {
		providerRef, ref string
		lost             bool
	}
	s.mu.Lock()
	var todo []task
	for _, r := range s.reservations {
		switch {
		case r.providerRef != "" && !r.cancelled:
			todo = append(todo, task{providerRef: r.providerRef, ref: r.ref})
		case r.lost:
			todo = append(todo, task{ref: r.ref, lost: true})
		}
		for _, extra := range r.extraRefs {
			todo = append(todo, task{providerRef: extra, ref: r.ref})
		}
	}
	s.mu.Unlock()
	if len(todo) == 0 {
		return pass("nothing left to cancel")
	}
	var failed []string
	for _, t := range todo {
		name := t.providerRef
		if t.lost {
			name = "trainingportalBookingReference " + t.ref
		}
		ans, _, problem := s.cancelCall(ctx, "clean-up cancel", t.providerRef, t.ref)
		switch {
		case problem != "":
			failed = append(failed, fmt.Sprintf("%s: %s", name, problem))
		case !ans.Cancelled && !t.lost:
			failed = append(failed, fmt.Sprintf("%s: cancelled:false %q", name, ans.ErrorMessage))
		}
	}
	if len(failed) > 0 {
		return fail("%d of %d reservations could not be cancelled; cancel them at the provider: %s", len(failed), len(todo), strings.Join(failed, "; "))
	}
	if len(todo) == 1 {
		return pass("cancelled the 1 reservation still held")
	}
	return pass("cancelled the %d reservations still held", len(todo))
}
