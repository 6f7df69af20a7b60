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

func TestParseDateInputHasALowerBound(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want: the date, or a part of the error
	}{
		{"2027-05-05", "2027-05-05"},
		{"1900-01-01", "1900-01-01"},
		{"1899-12-31", "is before 1900-01-01"},
		{"0000-01-01", "is before 1900-01-01"},
		{"0001-01-01", "is before 1900-01-01"},
		{"2027-02-30", "not a date"},
	} {
		d, err := ParseDateInput(tt.in)
		got := d.String()
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("ParseDateInput(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckDateWindow(t *testing.T) {
	today := Date{2026, 11, 27}
	class := func(start, end string) Class {
		s, _ := ParseDate(start)
		e, _ := ParseDate(end)
		return Class{StartDate: s, EndDate: e, EnrollmentDeadline: s, CancellationDeadline: s}
	}
	for _, tt := range []struct {
		start, end, want string // want: "" or a part of the error
	}{
		{"2027-01-10", "2027-01-12", ""},
		{"2000-01-01", "2000-01-02", ""},
		{"2036-11-27", "2036-11-27", ""},
		{"1999-12-31", "2000-01-02", "startDate: 1999-12-31 is before 2000-01-01"},
		{"2036-11-27", "2036-11-28", "endDate: 2036-11-28 is more than 10 years ahead (after 2036-11-27)"},
		{"2999-01-01", "2999-01-02", "startDate: 2999-01-01 is more than 10 years ahead"},
	} {
		err := class(tt.start, tt.end).CheckDateWindow(today)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("class %s..%s: %v, want %q", tt.start, tt.end, err, tt.want)
		}
	}
	if got := (Date{2024, 2, 29}).AddYears(1); got != (Date{2025, 3, 1}) {
		t.Errorf("2024-02-29 + 1 year = %s", got)
	}
}
