package tpclient

import (
	"strings"
	"testing"
)

// The readers must never panic on any answer, and what they read from a JSON answer
// they must read the same from its XML twin.
func FuzzParseAnswer(f *testing.F) {
	for _, seed := range []string{
		`{"externalId":"W40","address":{"city":"Oslo"},"price":{"amount":12500.50},"cancelled":"true"}`,
		`[{"externalCourseId":"A","name":"x"}]`,
		`{"firstname":"Kari","enroller":{"firstName":"Ola"}}`,
		`{"sucessful":"true","errorMessage":""}`,
		`<courseClasses><courseClass><externalId>W</externalId></courseClass></courseClasses>`,
		`<booking><firstname>K</firstname><enroller><phone>47</phone></enroller></booking>`,
		`<statusMessage><successful>true</successful></statusMessage>`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := parse(body)
		if err != nil {
			if n != nil {
				t.Fatal("a node with an error")
			}
			return
		}
		readClass(n)
		readBooking(n)
		readStatus(n)
		for _, it := range n.items() {
			readCourse(it)
			readClass(it)
		}
		errorMessage(body, 400)
	})
}

// A scalar value survives the trip through either format unchanged, so a price is
// never rounded and a name never altered.
func FuzzScalarIsKeptExactly(f *testing.F) {
	for _, seed := range []string{"12500.50", "0.1", "Karl Johans gate 1", "Ærøskøbing", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if strings.ContainsAny(v, "<>&\"\\") || strings.TrimSpace(v) != v || !validText(v) {
			t.Skip()
		}
		for _, body := range []string{
			`{"price":{"amount":"` + v + `"}}`,
			`<courseClass><price><amount>` + v + `</amount></price></courseClass>`,
		} {
			n, err := parse([]byte(body))
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if got := readClass(n).Price.Amount; got != v {
				t.Fatalf("%s: amount %q, want %q", body, got, v)
			}
		}
	})
}

// validText is text that JSON and XML both carry unescaped.
func validText(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd || (r >= 0xd800 && r <= 0xdfff) || r == 0xfffe || r == 0xffff {
			return false
		}
	}
	return true
}
