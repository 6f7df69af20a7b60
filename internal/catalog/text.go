package catalog

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/tportal/tportal/internal/errs"
)

// TextProblem says what is wrong with s as the text of a field (SPEC §2 "Text"), ""
// when nothing is: it must be valid UTF-8 without NUL or other control characters.
// A free-text field (a comment, an address line) may also hold tab, line feed and
// carriage return. Both APIs apply it to every parameter, path segment, JSON string
// and header they read, before anything reaches a database, so both databases see the
// same valid text.
func TextProblem(s string, freeText bool) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validRuneAt(s, i):
			return fmt.Sprintf("is not valid UTF-8 text (byte 0x%02X at byte %d)", s[i], i)
		case freeText && (r == '\t' || r == '\n' || r == '\r'):
		case unicode.IsControl(r):
			what := "a control character"
			if r == 0 {
				what = "a NUL byte"
			}
			return fmt.Sprintf("contains %s (U+%04X at character %d)", what, r, utf8.RuneCountInString(s[:i])+1)
		}
	}
	return ""
}

// validRuneAt reports whether the U+FFFD at byte i of s was written as such, not
// decoded from an invalid byte.
func validRuneAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == len(string(utf8.RuneError))
}

// CheckText returns an errs.Invalid naming field when s breaks TextProblem's rule.
func CheckText(field, s string, freeText bool) error {
	if p := TextProblem(s, freeText); p != "" {
		return errs.E(errs.Invalid, "%s: %s", field, p)
	}
	return nil
}

// TooLong says how s exceeds a limit of max characters (not bytes), "" when it does not.
func TooLong(s string, max int) string {
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("is %d characters long; the limit is %d", n, max)
	}
	return ""
}
