package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Status is the outcome of one scenario.
type Status string

// The outcomes of a scenario. Only Fail makes a report fail: a warning is for
// something SPEC asks for that the kit could not observe (a provider that never
// called back), a skip for a scenario that could not run.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
	Warn Status = "WARN"
)

// Result is the outcome of one scenario.
type Result struct {
	Name     string        `json:"name"`
	Status   Status        `json:"status"`
	Why      string        `json:"why"`
	Duration time.Duration `json:"-"`
}

// Report is the outcome of one suite run.
type Report struct {
	Suite    string // "provider" or "portal"
	Target   string // what was tested, for the heading
	Started  time.Time
	Duration time.Duration
	Results  []Result
	// Interrupted is set when the run was stopped (Ctrl-C) before every
	// scenario ran; such a run has not passed.
	Interrupted bool
}

// Count returns how many results have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Passed reports whether the run was complete and no scenario failed.
func (r Report) Passed() bool { return r.Count(Fail) == 0 && !r.Interrupted }

// Result returns the result of the scenario called name.
func (r Report) Result(name string) (Result, bool) {
	for _, res := range r.Results {
		if res.Name == name {
			return res, true
		}
	}
	return Result{}, false
}

// WriteText writes the report for people: a heading, one line per scenario
// (status, name, why, duration) and a summary line.
func (r Report) WriteText(w io.Writer) error {
	width := 0
	for _, res := range r.Results {
		width = max(width, len(res.Name))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "tportal conformance %s: %s\n", r.Suite, r.Target)
	for _, res := range r.Results {
		fmt.Fprintf(&sb, "%-4s  %-*s  %s (%s)\n", res.Status, width, res.Name, res.Why, roundDuration(res.Duration))
	}
	verdict := "PASSED"
	switch {
	case r.Interrupted:
		verdict = "INTERRUPTED"
	case !r.Passed():
		verdict = "FAILED"
	}
	fmt.Fprintf(&sb, "%s: %d scenarios, %d passed, %d failed, %d skipped, %d warnings, in %s\n",
		verdict, len(r.Results), r.Count(Pass), r.Count(Fail), r.Count(Skip), r.Count(Warn), roundDuration(r.Duration))
	_, err := io.WriteString(w, sb.String())
	return err
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// jsonReport is the shape of WriteJSON.
type jsonReport struct {
	Suite           string         `json:"suite"`
	Target          string         `json:"target"`
	Started         time.Time      `json:"started"`
	DurationSeconds float64        `json:"durationSeconds"`
	Passed          bool           `json:"passed"`
	Interrupted     bool           `json:"interrupted"`
	Counts          map[Status]int `json:"counts"`
	Scenarios       []jsonResult   `json:"scenarios"`
}

type jsonResult struct {
	Result
	DurationSeconds float64 `json:"durationSeconds"`
}

// WriteJSON writes the report as one JSON object (see docs/conformance.md).
func (r Report) WriteJSON(w io.Writer) error {
	out := jsonReport{
		Suite: r.Suite, Target: r.Target, Started: r.Started.UTC(),
		DurationSeconds: r.Duration.Seconds(), Passed: r.Passed(), Interrupted: r.Interrupted,
		Counts:    map[Status]int{Pass: r.Count(Pass), Fail: r.Count(Fail), Skip: r.Count(Skip), Warn: r.Count(Warn)},
		Scenarios: make([]jsonResult, len(r.Results)),
	}
	for i, res := range r.Results {
		out.Scenarios[i] = jsonResult{Result: res, DurationSeconds: res.Duration.Seconds()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// The JUnit XML shape that CI tools (Jenkins, GitLab, GitHub actions) read.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML: one testsuite named after the
// suite, one testcase per scenario. A warning is a passed testcase whose
// system-out says "WARN: …", as JUnit has no warning outcome.
func (r Report) WriteJUnit(w io.Writer) error {
	suite := junitSuite{
		Name: "tportal conformance " + r.Suite, Tests: len(r.Results),
		Failures: r.Count(Fail), Skipped: r.Count(Skip), Time: seconds(r.Duration),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
	}
	for _, res := range r.Results {
		c := junitCase{Name: res.Name, ClassName: "conformance." + r.Suite, Time: seconds(res.Duration)}
		switch res.Status {
		case Fail:
			c.Failure = &junitMessage{Message: res.Why, Text: res.Why}
		case Skip:
			c.Skipped = &junitMessage{Message: res.Why}
		case Warn:
			c.SystemOut = "WARN: " + res.Why
		default:
			c.SystemOut = res.Why
		}
		suite.Cases = append(suite.Cases, c)
	}
	doc := junitSuites{Name: "tportal conformance", Tests: suite.Tests, Failures: suite.Failures,
		Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
