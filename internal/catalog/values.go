package catalog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date without a time zone, as the API's yyyy-MM-dd fields carry it.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads a yyyy-MM-dd date.
func ParseDate(s string) (Date, error) {
	if d, ok := parseDateFast(s); ok {
		return d, nil
	}
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in the form yyyy-MM-dd", s)
	}
	return DateOf(t), nil
}

// parseDateFast reads exactly yyyy-MM-dd with a valid day, without time.Parse: stored
// dates are always in this form and a class list reads four per class. Anything else
// is left to time.Parse and its messages.
func parseDateFast(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return Date{}, false
	}
	return Date{y, time.Month(m), d}, true
}

// digits reads a short run of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn is the number of days in month m of year y.
func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// EarliestDate is the earliest date any date parameter may carry: an earlier one
// (0001-01-01, a year typed as 0024) is a mistake, not a date anyone means.
var EarliestDate = Date{1900, time.January, 1}

// ParseDateInput reads a yyyy-MM-dd date a caller sent: ParseDate, and not before
// EarliestDate. Stored dates are read with ParseDate, so that no rule added here makes
// a stored row unreadable.
func ParseDateInput(s string) (Date, error) {
	d, err := ParseDate(s)
	if err != nil {
		return Date{}, err
	}
	if d.Compare(EarliestDate) < 0 {
		return Date{}, fmt.Errorf("%s is before %s", d, EarliestDate)
	}
	return d, nil
}

// AddYears returns the date n years after d (Feb 29 becomes Mar 1 in a common year).
func (d Date) AddYears(n int) Date {
	return DateOf(time.Date(d.Year+n, d.Month, d.Day, 12, 0, 0, 0, time.UTC))
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String formats the date as yyyy-MM-dd.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.Append(make([]byte, 0, 10)))
}

// Append appends the date as yyyy-MM-dd (nothing for the zero Date) to b, with no
// fmt: a class list formats four dates per class.
func (d Date) Append(b []byte) []byte {
	if d.IsZero() {
		return b
	}
	if d.Year < 0 || d.Year > 9999 {
		return fmt.Appendf(b, "%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
	b = append(b, byte('0'+d.Year/1000), byte('0'+d.Year/100%10), byte('0'+d.Year/10%10), byte('0'+d.Year%10), '-')
	b = append2(b, int(d.Month))
	b = append(b, '-')
	return append2(b, d.Day)
}

// append2 appends 0 <= n < 100 as two digits.
func append2(b []byte, n int) []byte {
	if n < 0 || n > 99 {
		return fmt.Appendf(b, "%02d", n)
	}
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// At returns the instant of the given wall-clock time on d in loc. Go resolves wall
// times that a daylight-saving change skips or repeats to a well-defined instant.
func (d Date) At(clock TimeOfDay, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, clock.Hour, clock.Minute, clock.Second, 0, loc)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TimeOfDay is a wall-clock time, local to a class's venue.
type TimeOfDay struct {
	Hour, Minute, Second int
}

// ParseTimeOfDay reads HH:mm or HH:mm:ss.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	// The stored form, HH:mm or HH:mm:ss, without time.Parse.
	if (len(s) == 5 || len(s) == 8 && s[5] == ':') && s[2] == ':' {
		h, ok1 := digits(s[0:2])
		m, ok2 := digits(s[3:5])
		sec, ok3 := 0, true
		if len(s) == 8 {
			sec, ok3 = digits(s[6:8])
		}
		if ok1 && ok2 && ok3 && h < 24 && m < 60 && sec < 60 {
			return TimeOfDay{h, m, sec}, nil
		}
	}
	s = strings.TrimSpace(s)
	for _, layout := range []string{"15:04", "15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return TimeOfDay{t.Hour(), t.Minute(), t.Second()}, nil
		}
	}
	return TimeOfDay{}, fmt.Errorf("%q is not a time in the form HH:mm", s)
}

// String formats the time as HH:mm, or HH:mm:ss when it has seconds.
func (t TimeOfDay) String() string {
	return string(t.Append(make([]byte, 0, 8)))
}

// Append appends the time as String formats it to b.
func (t TimeOfDay) Append(b []byte) []byte {
	b = append(append2(b, t.Hour), ':')
	b = append2(b, t.Minute)
	if t.Second != 0 {
		b = append2(append(b, ':'), t.Second)
	}
	return b
}

func (t TimeOfDay) seconds() int { return t.Hour*3600 + t.Minute*60 + t.Second }

// Currencies are the currencies a class price may be in.
var Currencies = []string{"NOK", "EUR", "USD", "GBP"}

// Money is an exact amount in minor units (øre, cents, pence) of a currency.
type Money struct {
	Currency string
	Minor    int64
}

// maxMinor bounds amounts far above any course price, so arithmetic never overflows.
const maxMinor = 1_000_000_000_000

// ParseCurrency checks a currency code against Currencies.
func ParseCurrency(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	for _, ok := range Currencies {
		if c == ok {
			return c, nil
		}
	}
	return "", fmt.Errorf("%q is not one of %s", s, strings.Join(Currencies, ", "))
}

// ParseAmount reads a non-negative decimal amount with at most two decimals, with '.'
// or ',' as the decimal separator, into minor units. It never goes through a float.
func ParseAmount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not an amount like 1250 or 1250.50 (non-negative, at most two decimals)", s)
	if s == "" {
		return 0, bad
	}
	whole, frac, hasFrac := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	if whole == "" || !allDigits(whole) || (hasFrac && (len(frac) == 0 || len(frac) > 2 || !allDigits(frac))) {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > maxMinor/100 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	var f int64
	if hasFrac {
		f, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Amount formats the amount with two decimals and a '.' separator, e.g. "1250.50".
func (m Money) Amount() string {
	return string(m.AppendAmount(make([]byte, 0, 16)))
}

// AppendAmount appends the amount as Amount formats it to b.
func (m Money) AppendAmount(b []byte) []byte {
	if m.Minor < 0 {
		return fmt.Appendf(b, "%d.%02d", m.Minor/100, m.Minor%100)
	}
	b = strconv.AppendInt(b, m.Minor/100, 10)
	return append2(append(b, '.'), int(m.Minor%100))
}

// Address is where a class takes place.
type Address struct {
	Line1, Line2, City, ZipCode, Country string
}
