package conformance

import (
	"strings"
	"testing"
)

// FuzzAnswerReaders feeds the readers of API v1 answers whatever a server
// might send: they must never panic, and what they put in a report must fit
// one line.
func FuzzAnswerReaders(f *testing.F) {
	for _, seed := range []string{
		`{"errorMessage":"no course"}`, `{"successful":"true","sucessful":true}`, `[{"externalId":"A","availableSeats":3}]`,
		`<error><errorMessage>no</errorMessage></error>`, `<courseClasses><courseClass><externalId>A</externalId></courseClass></courseClasses>`,
		"<html>\n<body>login</body></html>", "\xef\xbb\xbf{", "", "<a><b>", `{"successful":[1,2]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a := apiAnswer{status: 200, body: body}
		msg := a.errorMessage()
		_ = xmlElements(body, "externalId")
		_ = format(body)
		if m, err := a.object(); err == nil {
			flag(m)
			_ = text(m, "availableSeats")
		}
		if l, err := a.list(); err == nil {
			for _, m := range l {
				_ = text(m, "externalId")
			}
		}
		line := oneLine("answered " + excerpt(body, 200) + ": " + msg)
		if strings.ContainsAny(line, "\n\r") || len(line) > maxWhy+len("…") {
			t.Fatalf("report line %q does not fit one line", line)
		}
	})
}
