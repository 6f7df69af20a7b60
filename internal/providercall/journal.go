package providercall

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// JournalBodyBytes is how much of an answer's body the journal keeps: enough for any
// readable reserve or cancel answer and the start of an error page, little enough
// that a provider answering megabytes does not fill the database.
const JournalBodyBytes = 4 << 10

// RequestParams returns a call's parameters as the journal keeps them: one
// "name=value" line each, in the order sent, the values of personal and
// secret-looking parameters replaced by REDACTED as in RedactURL. Empty values are
// kept, so staff see which fields the provider got empty.
func RequestParams(params []Param) string {
	// Sized up front (REDACTED is the longest a value can become): growing the buffer
	// line by line took several allocations per call.
	n := 0
	for _, p := range params {
		n += len(p.Name) + max(len(p.Value), len(redacted)) + 2
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, p := range params {
		v := p.Value
		if v != "" && redacts(p.Name) {
			v = redacted
		}
		sb.WriteString(p.Name)
		sb.WriteByte('=')
		sb.WriteString(v)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// answerExcerpt returns the start of an answer's body as text a database column
// takes on both SQLite and PostgreSQL: at most JournalBodyBytes, cut at a character
// boundary, with invalid UTF-8 and NUL bytes replaced.
func answerExcerpt(body []byte) (text string, truncated bool) {
	if len(body) > JournalBodyBytes {
		body, truncated = body[:JournalBodyBytes], true
		// Drop a character the cut split in two (at most UTFMax-1 bytes).
		for i := 1; i < utf8.UTFMax && len(body) > 0; i++ {
			if r, size := utf8.DecodeLastRune(body); r != utf8.RuneError || size != 1 {
				break
			}
			body = body[:len(body)-1]
		}
	}
	text = strings.ToValidUTF8(string(body), "\uFFFD")
	return strings.ReplaceAll(text, "\x00", "\uFFFD"), truncated
}

// CallFilter selects journal entries; zero fields do not filter.
type CallFilter struct {
	ProviderID       int64
	BookingReference string
	Kind             Kind
	Outcome          Outcome
	Since            time.Time // calls at or after
	BeforeID         int64     // calls with a lower journal id: the next page
	Limit            int       // default 50
}

// ProviderTimes sums up one provider's calls over a period: how many, how many
// failed, and how long the provider took to answer.
type ProviderTimes struct {
	ProviderID    int64
	ProviderName  string
	Calls, Failed int
	P50, P95, Max time.Duration
}

// SummarizeTimes sums calls up per provider, ordered by name. Percentiles are the
// nearest-rank ones over every call, failed calls included, as a timeout is the
// slowest answer of all.
func SummarizeTimes(calls []Call) []ProviderTimes {
	type acc struct {
		t         ProviderTimes
		latencies []time.Duration
	}
	by := map[int64]*acc{}
	for _, c := range calls {
		a := by[c.ProviderID]
		if a == nil {
			a = &acc{t: ProviderTimes{ProviderID: c.ProviderID, ProviderName: c.ProviderName}}
			by[c.ProviderID] = a
		}
		a.t.Calls++
		if c.Outcome == OutcomeFailed {
			a.t.Failed++
		}
		a.latencies = append(a.latencies, c.Latency)
	}
	out := make([]ProviderTimes, 0, len(by))
	for _, a := range by {
		slices.Sort(a.latencies)
		a.t.P50, a.t.P95 = nearestRank(a.latencies, 50), nearestRank(a.latencies, 95)
		a.t.Max = a.latencies[len(a.latencies)-1]
		out = append(out, a.t)
	}
	slices.SortFunc(out, func(a, b ProviderTimes) int {
		if c := strings.Compare(a.ProviderName, b.ProviderName); c != 0 {
			return c
		}
		return int(a.ProviderID - b.ProviderID)
	})
	return out
}

// nearestRank is the p-th percentile of sorted, by the nearest-rank method.
func nearestRank(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}
