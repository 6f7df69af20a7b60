package catalog

import (
	"strings"
	"testing"
)

func TestTextProblem(t *testing.T) {
	for _, tt := range []struct {
		in       string
		freeText bool
		want     string // a part of the problem, "" for none
	}{
		{"Oslo", false, ""},
		{"Tromsø Ærø Åsane", false, ""},
		{"日本語 🚢", false, ""},
		{"\uFFFD as written", false, ""},
		{"", false, ""},
		{"A\x00S", false, "a NUL byte (U+0000 at character 2)"},
		{"Os\xff\xfelo", false, "not valid UTF-8 text (byte 0xFF at byte 2)"},
		{"\xc3", false, "not valid UTF-8"},
		{"ø\x01", false, "a control character (U+0001 at character 2)"},
		{"a\tb", false, "U+0009"},
		{"a\tb\r\nc", true, ""},
		{"a\x00b", true, "NUL"},
		{"a\x7fb", true, "U+007F"},
		{"a\u0085b", true, "U+0085"},
		{"line\u2028sep", false, ""},
	} {
		got := TextProblem(tt.in, tt.freeText)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("TextProblem(%q, %v) = %q, want %q", tt.in, tt.freeText, got, tt.want)
		}
	}
}

func TestTooLongCountsCharacters(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{strings.Repeat("å", 500), 500, ""},
		{strings.Repeat("å", 251), 500, ""},
		{strings.Repeat("🚢", 500), 500, ""},
		{strings.Repeat("å", 501), 500, "is 501 characters long; the limit is 500"},
		{strings.Repeat("a", 256), 255, "is 256 characters long; the limit is 255"},
	} {
		if got := TooLong(tt.in, tt.max); got != tt.want {
			t.Errorf("TooLong(%d × %q…, %d) = %q, want %q", len([]rune(tt.in)), string([]rune(tt.in)[:1]), tt.max, got, tt.want)
		}
	}
}
