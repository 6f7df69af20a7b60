package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/tpclient"
)

// PortalConfig says which implementation of API v1 to test and how.
type PortalConfig struct {
	// BaseURL is the API base, such as
	// https://www.trainingportal.no/mintra/api/courseprovider/rest/; a URL
	// with no path gets /api/courseprovider/rest/ (see NormalizeBaseURL).
	BaseURL            string
	Username, Password string
	// Course is the externalCourseId of one of the caller's courses; the
	// suite adds, changes and cancels classes of it.
	Course string
	// Timeout bounds each call (default 10s).
	Timeout  time.Duration
	Client   *http.Client // nil: a client of its own
	Progress Progress
}

// The portal suite's scenarios, in the order they run.
const (
	ScenarioCredentials      = "credentials accepted"
	ScenarioCourseListed     = "getCourses lists the course"
	ScenarioGetAndPost       = "GET and POST both accepted"
	ScenarioAddClass         = "addClass creates a class"
	ScenarioClassListed      = "getCourseClasses shows the new class"
	ScenarioUpdateMisspelled = "updateClass changes seats (erollmentDeadline spelling)"
	ScenarioUpdateSpelled    = "updateClass accepts enrollmentDeadline"
	ScenarioDuplicate        = "duplicate addClass is 409"
	ScenarioXML              = "XML with Accept: application/xml"
	ScenarioUnknownCourse    = "unknown course is 404 with errorMessage"
	ScenarioErrorXML         = "error answered in XML"
	ScenarioBadInput         = "bad input is 400 naming the field"
	ScenarioRestorePublished = "restoreClass of a published class is 409"
	ScenarioCancelClass      = "cancelClass answers a status message"
	ScenarioRestoreClass     = "restoreClass after cancelClass"
	ScenarioWrongPassword    = "wrong password is 401 with errorMessage"
	ScenarioPortalCleanup    = "clean-up: every class added is cancelled"
)

// NormalizeBaseURL checks that raw is an absolute http(s) URL and returns it
// as an API base ending in '/'. A URL without a path (https://portal.example)
// gets this portal's base, /api/courseprovider/rest/.
func NormalizeBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", errors.New("not an absolute http or https URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("has a query or fragment; give the API base only")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/courseprovider/rest/"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String(), nil
}

// CheckPortalConfig reports what is wrong with c for the command line.
func CheckPortalConfig(c PortalConfig) error {
	var problems []string
	if c.BaseURL == "" {
		problems = append(problems, "--base-url is required")
	} else if _, err := NormalizeBaseURL(c.BaseURL); err != nil {
		problems = append(problems, fmt.Sprintf("--base-url %q: %v", c.BaseURL, err))
	}
	for _, f := range []struct{ flag, value string }{{"--username", c.Username}, {"--password", c.Password}, {"--course", c.Course}} {
		if strings.TrimSpace(f.value) == "" {
			problems = append(problems, f.flag+" is required")
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// apiAnswer is an API v1 answer.
type apiAnswer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// portalSuite holds one run's state. Scenarios about the methods call them
// through the public SDK (tpclient), as a provider's code would; scenarios
// about the wire (spellings, formats, methods, error bodies) send raw HTTP.
type portalSuite struct {
	c      PortalConfig
	base   string
	client *http.Client
	api    *tpclient.Client
	apiErr error  // why the SDK client could not be made
	run    string // the run's unique suffix of external ids

	class     string // the class the suite added, once added
	cancelled bool   // whether the class is cancelled (or deleted)
	strays    []string
}

// RunPortal runs the portal suite against c and returns its report. It
// cancels every class it added before it returns, also when ctx ends.
func RunPortal(ctx context.Context, c PortalConfig) Report {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	s := &portalSuite{c: c, client: c.Client, run: strings.ToLower(time.Now().UTC().Format("20060102-150405") + "-" + rand.Text()[:6])}
	if s.client == nil {
		// Redirects are not followed: SPEC §2 serves every path without one,
		// as many clients do not follow a redirect on POST.
		s.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	s.base, _ = NormalizeBaseURL(c.BaseURL) // CheckPortalConfig has vetted it
	// No retries: the suite judges each answer as it comes.
	s.api, s.apiErr = tpclient.New(s.base, c.Username, c.Password, tpclient.WithHTTPClient(s.client),
		tpclient.WithRetries(0), tpclient.WithUserAgent("tportal-conformance/1"))
	scenarios := []scenario{
		{name: ScenarioCredentials, run: s.credentials},
		{name: ScenarioCourseListed, run: s.courseListed},
		{name: ScenarioGetAndPost, run: s.getAndPost},
		{name: ScenarioAddClass, run: s.addClass},
		{name: ScenarioClassListed, run: s.classListed},
		{name: ScenarioUpdateMisspelled, run: s.update("erollmentDeadline", 7, 20)},
		{name: ScenarioUpdateSpelled, run: s.update("enrollmentDeadline", 6, 25)},
		{name: ScenarioDuplicate, run: s.duplicate},
		{name: ScenarioXML, run: s.xmlAnswer},
		{name: ScenarioUnknownCourse, run: s.unknownCourse},
		{name: ScenarioErrorXML, run: s.errorXML},
		{name: ScenarioBadInput, run: s.badInput},
		{name: ScenarioRestorePublished, run: s.restorePublished},
		{name: ScenarioCancelClass, run: s.cancelClass},
		{name: ScenarioRestoreClass, run: s.restoreClass},
		{name: ScenarioWrongPassword, run: s.wrongPassword},
		{name: ScenarioPortalCleanup, run: s.cleanup, cleanup: true},
	}
	return runSuite(ctx, "portal", fmt.Sprintf("%s as %s, course %s", s.base, c.Username, c.Course), scenarios, c.Progress)
}

// call sends one API v1 call: POST with form fields (credentials added), or
// GET with them in the query.
func (s *portalSuite) call(ctx context.Context, method, path string, form url.Values, accept string) apiAnswer {
	v := url.Values{"username": {s.c.Username}, "password": {s.c.Password}}
	return s.callAs(ctx, method, path, v, form, accept)
}

func (s *portalSuite) callAs(ctx context.Context, method, path string, creds, form url.Values, accept string) apiAnswer {
	v := url.Values{}
	for k, vs := range creds {
		v[k] = vs
	}
	for k, vs := range form {
		v[k] = vs
	}
	cctx, cancel := context.WithTimeout(ctx, s.c.Timeout)
	defer cancel()
	target := s.base + path
	var body io.Reader
	if method == http.MethodGet {
		target += "?" + v.Encode()
	} else {
		body = strings.NewReader(v.Encode())
	}
	req, err := http.NewRequestWithContext(cctx, method, target, body)
	if err != nil {
		return apiAnswer{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("User-Agent", "tportal-conformance/1")
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the password
		}
		if cctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %s", s.c.Timeout)
		}
		return apiAnswer{err: fmt.Errorf("%s %s%s: %v", method, s.base, path, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return apiAnswer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// expect returns why a answered otherwise than with status want, or "".
func (a apiAnswer) expect(want int) string {
	switch {
	case a.err != nil:
		return a.err.Error()
	case a.status >= 300 && a.status <= 399 && a.header.Get("Location") != "":
		return fmt.Sprintf("answered HTTP %d, a redirect to %s, want %d (SPEC §2: no redirects; many clients do not follow one on POST)", a.status, a.header.Get("Location"), want)
	case a.status != want:
		return fmt.Sprintf("answered HTTP %d, want %d: %s", a.status, want, excerpt(a.body, 200))
	}
	return ""
}

// object decodes a JSON object answer.
func (a apiAnswer) object() (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON object (%v): %s", err, excerpt(a.body, 200))
	}
	return m, nil
}

// list decodes a JSON array of objects.
func (a apiAnswer) list() ([]map[string]any, error) {
	var l []map[string]any
	if err := json.Unmarshal(a.body, &l); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON array of objects (%v): %s", err, excerpt(a.body, 200))
	}
	return l, nil
}

// errorMessage returns the errorMessage of an error answer, JSON or XML.
func (a apiAnswer) errorMessage() string {
	var m map[string]any
	if json.Unmarshal(a.body, &m) == nil {
		s, _ := m["errorMessage"].(string)
		return s
	}
	return xmlElement(a.body, "errorMessage")
}

// xmlElement returns the text of the first element called name, or "".
func xmlElement(body []byte, name string) string {
	found := xmlElements(body, name)
	if len(found) == 0 {
		return ""
	}
	return found[0]
}

// xmlElements returns the text of every element called name, at any depth.
func xmlElements(body []byte, name string) []string {
	d := xml.NewDecoder(bytes.NewReader(body))
	var out []string
	for {
		tok, err := d.Token()
		if err != nil {
			return out
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			var text string
			if d.DecodeElement(&text, &se) == nil {
				out = append(out, strings.TrimSpace(text))
			}
		}
	}
}

// text returns a JSON field as text: strings as they are, numbers and
// booleans as written.
func text(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// flag reads a status message's success flag in either spelling, boolean or
// string; spellings lists the spellings present.
func flag(m map[string]any) (ok bool, spellings []string) {
	for _, k := range []string{"successful", "sucessful"} {
		v, present := m[k]
		if !present {
			continue
		}
		spellings = append(spellings, k)
		switch v := v.(type) {
		case bool:
			ok = ok || v
		case string:
			ok = ok || strings.EqualFold(v, "true")
		}
	}
	return ok, spellings
}

// dates are a test class's dates, far enough ahead to be open for booking.
type dates struct{ enrollment, cancellation, start, end time.Time }

func classDates() dates {
	start := time.Now().UTC().AddDate(0, 4, 0).Truncate(24 * time.Hour)
	return dates{enrollment: start.AddDate(0, 0, -14), cancellation: start.AddDate(0, 0, -7), start: start, end: start.AddDate(0, 0, 1)}
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// testClass is a class with every documented field.
func testClass(id string, seats int) tpclient.CourseClass {
	d := classDates()
	no := false // no calendar invitations to students for a test class
	return tpclient.CourseClass{
		ExternalID: id, Location: "Oslo (tportal conformance test, not for booking)", AvailableSeats: seats,
		EnrollmentDeadline: day(d.enrollment), CancellationDeadline: day(d.cancellation),
		StartDate: day(d.start), StartTime: "09:00", EndDate: day(d.end), EndTime: "15:30",
		Address: tpclient.Address{AddressLine1: "Testveien 1", AddressLine2: "2. etasje", City: "Oslo", ZipCode: "0150", Country: "Norway"},
		Price:   tpclient.Price{Currency: "NOK", Amount: "4990.00"}, SendScheduleInfoToParticipants: &no,
	}
}

func (s *portalSuite) classesPath(course string) string {
	return "v1/courses/get/" + url.PathEscape(course) + "/courseClasses"
}

// apiCtx bounds one SDK call by the timeout.
func (s *portalSuite) apiCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.c.Timeout)
}

// why explains an SDK error: the status and the server's errorMessage of a
// refusal, else the error itself.
func why(err error) string {
	var apiErr *tpclient.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("answered HTTP %d: %q", apiErr.StatusCode, apiErr.Message)
	}
	return strings.TrimPrefix(err.Error(), "tpclient: ")
}

// refusal checks that err is the refusal want (a tpclient sentinel) with
// status code and an errorMessage, and returns that message; problem says
// what came instead.
func refusal(err, want error, code int) (message, problem string) {
	var apiErr *tpclient.APIError
	switch {
	case err == nil:
		return "", "succeeded"
	case !errors.Is(err, want) || !errors.As(err, &apiErr):
		return "", why(err)
	case apiErr.StatusCode != code:
		return "", fmt.Sprintf("answered HTTP %d, want %d", apiErr.StatusCode, code)
	case apiErr.Message == "" || apiErr.Message == http.StatusText(code):
		return "", fmt.Sprintf("answered %d without an errorMessage", code)
	}
	return apiErr.Message, ""
}

// findClass returns the class called id from getCourseClasses; found is
// false when it is not listed, problem set when the call failed.
func (s *portalSuite) findClass(ctx context.Context, id string) (c tpclient.CourseClass, found bool, problem string) {
	cctx, cancel := s.apiCtx(ctx)
	defer cancel()
	classes, err := s.api.CourseClasses(cctx, s.c.Course)
	if err != nil {
		return c, false, "getCourseClasses " + why(err)
	}
	for _, c := range classes {
		if c.ExternalID == id {
			return c, true, ""
		}
	}
	return c, false, ""
}

// aborting marks a failure after which no other scenario can work.
func aborting(o outcome) outcome {
	o.abort = true
	return o
}

// credentials checks the credentials first, so a wrong password fails fast
// with a message that says so instead of a page of failures.
func (s *portalSuite) credentials(ctx context.Context) outcome {
	if s.apiErr != nil {
		return aborting(fail("%v", s.apiErr))
	}
	cctx, cancel := s.apiCtx(ctx)
	defer cancel()
	_, err := s.api.Courses(cctx)
	var apiErr *tpclient.APIError
	switch {
	case errors.Is(err, tpclient.ErrUnauthorized), errors.Is(err, tpclient.ErrForbidden):
		errors.As(err, &apiErr)
		return aborting(fail("the portal refused the credentials of %q (HTTP %d: %q); check --username and --password", s.c.Username, apiErr.StatusCode, apiErr.Message))
	case errors.Is(err, tpclient.ErrNotFound):
		return aborting(fail("getCourses at %sv1/courses/get answered 404; is --base-url the API base (…/api/courseprovider/rest/)?", s.base))
	case err != nil:
		return aborting(fail("getCourses %s", why(err)))
	}
	return pass("getCourses answered 200 for %q", s.c.Username)
}

func (s *portalSuite) courseListed(ctx context.Context) outcome {
	cctx, cancel := s.apiCtx(ctx)
	defer cancel()
	courses, err := s.api.Courses(cctx)
	if err != nil {
		return fail("getCourses %s", why(err))
	}
	var ids []string
	for _, c := range courses {
		if c.ExternalCourseID == s.c.Course {
			if c.Name == "" {
				return fail("getCourses lists %s without a name", c.ExternalCourseID)
			}
			return pass("%s is %q, among %d courses", c.ExternalCourseID, c.Name, len(courses))
		}
		ids = append(ids, c.ExternalCourseID)
	}
	return aborting(fail("--course %s is not among the caller's %d courses (externalCourseId %s)", s.c.Course, len(courses), strings.Join(ids, ", ")))
}

func (s *portalSuite) getAndPost(ctx context.Context) outcome {
	a := s.call(ctx, http.MethodGet, "v1/courses/get", nil, "")
	if why := a.expect(http.StatusOK); why != "" {
		return fail("getCourses by GET with the parameters in the query %s", why)
	}
	if _, err := a.list(); err != nil {
		return fail("getCourses by GET: %v", err)
	}
	return pass("getCourses answered by GET (query parameters) and by POST (form fields)")
}

func (s *portalSuite) addClass(ctx context.Context) outcome {
	want := testClass("tpconf-"+s.run, 10)
	cctx, cancel := s.apiCtx(ctx)
	defer cancel()
	got, err := s.api.AddClass(cctx, s.c.Course, want)
	if err != nil {
		if !errors.Is(err, tpclient.ErrBadRequest) && !errors.Is(err, tpclient.ErrConflict) {
			s.class = want.ExternalID // it may have been added: the clean-up cancels it
		}
		return fail("addClass of %s %s", want.ExternalID, why(err))
	}
	s.class = want.ExternalID
	var wrong []string
	for _, f := range []struct{ field, got, want string }{
		{"externalId", got.ExternalID, want.ExternalID}, {"courseExternalId", got.CourseExternalID, s.c.Course},
		{"availableSeats", strconv.Itoa(got.AvailableSeats), "10"}, {"cancelled", strconv.FormatBool(got.Cancelled), "false"},
		{"enrollmentDeadline", got.EnrollmentDeadline, want.EnrollmentDeadline}, {"startDate", got.StartDate, want.StartDate},
	} {
		if f.got != f.want {
			wrong = append(wrong, fmt.Sprintf("%s %q, want %q", f.field, f.got, f.want))
		}
	}
	if len(wrong) > 0 {
		return fail("addClass answered the class with %s", strings.Join(wrong, "; "))
	}
	return pass("class %s added with 10 seats", want.ExternalID)
}

func (s *portalSuite) needClass() (outcome, bool) {
	if s.class == "" {
		return skip("needs the class of %q", ScenarioAddClass), false
	}
	return outcome{}, true
}

func (s *portalSuite) classListed(ctx context.Context) outcome {
	if o, ok := s.needClass(); !ok {
		return o
	}
	c, found, problem := s.findClass(ctx, s.class)
	switch {
	case problem != "":
		return fail("%s", problem)
	case !found:
		return fail("getCourseClasses of %s does not list the class %s just added", s.c.Course, s.class)
	case c.AvailableSeats != 10 || c.Cancelled:
		return fail("getCourseClasses lists %s with availableSeats %d and cancelled %v, want 10 and false", s.class, c.AvailableSeats, c.Cancelled)
	}
	return pass("listed with 10 seats, not cancelled")
}

// update returns the scenario that changes the class's seats and its
// enrollment deadline, sent under the parameter name deadlineParam, and
// reads both back from getCourseClasses.
func (s *portalSuite) update(deadlineParam string, seats, daysBefore int) func(context.Context) outcome {
	return func(ctx context.Context) outcome {
		if o, ok := s.needClass(); !ok {
			return o
		}
		deadline := day(classDates().start.AddDate(0, 0, -daysBefore))
		form := url.Values{"externalId": {s.class}, "availableSeats": {strconv.Itoa(seats)}, deadlineParam: {deadline}}
		a := s.call(ctx, http.MethodPost, s.classesPath(s.c.Course)+"/update", form, "")
		if why := a.expect(http.StatusOK); why != "" {
			return fail("updateClass with availableSeats and %s %s", deadlineParam, why)
		}
		c, found, problem := s.findClass(ctx, s.class)
		switch {
		case problem != "":
			return fail("%s", problem)
		case !found:
			return fail("getCourseClasses no longer lists %s after updateClass", s.class)
		case c.AvailableSeats != seats:
			return fail("availableSeats is %d after updateClass sent %d", c.AvailableSeats, seats)
		case c.EnrollmentDeadline != deadline:
			return fail("enrollmentDeadline is %q after updateClass sent %s=%s", c.EnrollmentDeadline, deadlineParam, deadline)
		}
		return pass("availableSeats %d and %s %s read back", seats, deadlineParam, deadline)
	}
}

func (s *portalSuite) duplicate(ctx context.Context) outcome {
	if o, ok := s.needClass(); !ok {
		return o
	}
	cctx, cancel := s.apiCtx(ctx)
	defer cancel()
	_, err := s.api.AddClass(cctx, s.c.Course, testClass(s.class, 10))
	msg, problem := refusal(err, tpclient.ErrConflict, http.StatusConflict)
	if problem != "" {
		return fail("a second addClass of %s %s, want 409 with an errorMessage", s.class, problem)
	}
	return pass("409, errorMessage %q", msg)
}

func (s *portalSuite) xmlAnswer(ctx context.Context) outcome {
	if o, ok := s.needClass(); !ok {
		return o
	}
	a := s.call(ctx, http.MethodPost, s.classesPath(s.c.Course), nil, "application/xml")
	if why := a.expect(http.StatusOK); why != "" {
		return fail("getCourseClasses with Accept: application/xml %s", why)
	}
	if format(a.body) != "XML" {
		return fail("getCourseClasses with Accept: application/xml answered %s: %s", format(a.body), excerpt(a.body, 200))
	}
	if !slices.Contains(xmlElements(a.body, "externalId"), s.class) {
		return fail("the XML answer has no <externalId>%s</externalId>: %s", s.class, excerpt(a.body, 300))
	}
	return pass("XML (%s) lists <externalId>%s</externalId>", a.header.Get("Content-Type"), s.class)
}

func (s *portalSuite) unknownCourse(ctx context.Context) outcome {
	course := "tpconf-no-such-course-" + s.run
	a := s.call(ctx, http.MethodPost, s.classesPath(course), nil, "")
	if why := a.expect(http.StatusNotFound); why != "" {
		return fail("getCourseClasses of the unknown course %s %s", course, why)
	}
	if a.errorMessage() == "" {
		return fail("404 without a JSON errorMessage: %s", excerpt(a.body, 200))
	}
	return pass("404, errorMessage %q", a.errorMessage())
}

func (s *portalSuite) errorXML(ctx context.Context) outcome {
	course := "tpconf-no-such-course-" + s.run
	a := s.call(ctx, http.MethodPost, s.classesPath(course), nil, "application/xml")
	if why := a.expect(http.StatusNotFound); why != "" {
		return fail("getCourseClasses of an unknown course with Accept: application/xml %s", why)
	}
	if msg := xmlElement(a.body, "errorMessage"); msg == "" || format(a.body) != "XML" {
		return fail("the 404 has no XML <errorMessage>: %s", excerpt(a.body, 200))
	}
	return pass("404, <errorMessage>%s</errorMessage>", xmlElement(a.body, "errorMessage"))
}

func (s *portalSuite) badInput(ctx context.Context) outcome {
	bad := testClass("tpconf-"+s.run+"-bad", -1)
	cctx, cancel := s.apiCtx(ctx)
	defer cancel()
	_, err := s.api.AddClass(cctx, s.c.Course, bad)
	if err == nil {
		s.strays = append(s.strays, bad.ExternalID)
	}
	msg, problem := refusal(err, tpclient.ErrBadRequest, http.StatusBadRequest)
	switch {
	case problem != "":
		return fail("addClass with availableSeats=-1 %s, want 400 naming the field", problem)
	case !strings.Contains(msg, "availableSeats"):
		return fail("the 400's errorMessage %q does not name the field availableSeats", msg)
	}
	return pass("400, errorMessage %q", msg)
}

func (s *portalSuite) restorePath(id string) string {
	return s.classesPath(s.c.Course) + "/restore/" + url.PathEscape(id)
}

func (s *portalSuite) restorePublished(ctx context.Context) outcome {
	if o, ok := s.needClass(); !ok {
		return o
	}
	cctx, cancel := s.apiCtx(ctx)
	defer cancel()
	msg, problem := refusal(s.api.RestoreClass(cctx, s.c.Course, s.class), tpclient.ErrConflict, http.StatusConflict)
	if problem != "" {
		return fail("restoreClass of the published class %s %s, want 409 (the public documentation's restore page)", s.class, problem)
	}
	return pass("409, errorMessage %q", msg)
}

// statusMessage checks a status-message answer, which must say successful in
// either spelling, and describes it.
func statusMessage(a apiAnswer, what string) (string, outcome, bool) {
	if why := a.expect(http.StatusOK); why != "" {
		return "", fail("%s %s", what, why), false
	}
	m, err := a.object()
	if err != nil {
		return "", fail("%s: %v", what, err), false
	}
	ok, spellings := flag(m)
	switch {
	case len(spellings) == 0:
		return "", fail("%s answered no successful (or sucessful) flag: %s", what, excerpt(a.body, 200)), false
	case !ok:
		return "", fail("%s answered %s false: %q", what, strings.Join(spellings, "/"), text(m, "errorMessage")), false
	}
	desc := strings.Join(spellings, " and ") + " true"
	if len(spellings) == 1 {
		desc += " (SPEC §2 asks for both successful and sucessful; clients read either)"
	}
	return desc, outcome{}, true
}

func (s *portalSuite) cancelClass(ctx context.Context) outcome {
	if o, ok := s.needClass(); !ok {
		return o
	}
	a := s.call(ctx, http.MethodPost, s.classesPath(s.c.Course)+"/cancel/"+url.PathEscape(s.class), nil, "")
	spellings, o, ok := statusMessage(a, "cancelClass of "+s.class)
	if !ok {
		return o
	}
	s.cancelled = true
	return pass("status message with %s", spellings)
}

// restoreClass restores the class just cancelled. SPEC §2 (from the public
// documentation): a cancelled class without bookings is deleted at once, so
// 404 conforms as well as a restore.
func (s *portalSuite) restoreClass(ctx context.Context) outcome {
	if !s.cancelled {
		return skip("needs the cancellation of %q", ScenarioCancelClass)
	}
	a := s.call(ctx, http.MethodPost, s.restorePath(s.class), nil, "")
	if a.err == nil && a.status == http.StatusNotFound {
		if a.errorMessage() == "" {
			return fail("404 without an errorMessage")
		}
		return pass("404: the class had no bookings, so cancelClass deleted it at once, as documented (%q)", a.errorMessage())
	}
	spellings, o, ok := statusMessage(a, "restoreClass of "+s.class)
	if !ok {
		return o
	}
	s.cancelled = false
	c, found, problem := s.findClass(ctx, s.class)
	switch {
	case problem != "":
		return fail("%s", problem)
	case !found || c.Cancelled:
		return fail("restoreClass answered %s, but getCourseClasses does not list %s as published", spellings, s.class)
	}
	return pass("restored: status message with %s, listed as published", spellings)
}

func (s *portalSuite) wrongPassword(ctx context.Context) outcome {
	creds := url.Values{"username": {s.c.Username}, "password": {s.c.Password + "-wrong"}}
	a := s.callAs(ctx, http.MethodPost, "v1/courses/get", creds, nil, "")
	if why := a.expect(http.StatusUnauthorized); why != "" {
		return fail("getCourses with a wrong password %s", why)
	}
	if a.errorMessage() == "" {
		return fail("401 without an errorMessage: %s", excerpt(a.body, 200))
	}
	return pass("401, errorMessage %q", a.errorMessage())
}

// cleanup cancels every class the suite added and has not cancelled.
func (s *portalSuite) cleanup(ctx context.Context) outcome {
	var todo []string
	if s.class != "" && !s.cancelled {
		todo = append(todo, s.class)
	}
	todo = append(todo, s.strays...)
	if len(todo) == 0 {
		return pass("nothing left to cancel")
	}
	var failed []string
	for _, id := range todo {
		cctx, cancel := s.apiCtx(ctx)
		if err := s.api.CancelClass(cctx, s.c.Course, id); err != nil {
			failed = append(failed, fmt.Sprintf("%s: cancelClass %s", id, why(err)))
		}
		cancel()
	}
	if len(failed) > 0 {
		return fail("could not cancel %s; cancel them by hand", strings.Join(failed, "; "))
	}
	return pass("cancelled %s", strings.Join(todo, ", "))
}
