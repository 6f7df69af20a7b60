package gateway

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date, yyyy-MM-dd, local to a class's venue. Dates in this form
// compare correctly as strings.
type Date string

// ParseDate reads a yyyy-MM-dd date.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", fmt.Errorf("%q is not a date in the form yyyy-MM-dd", s)
	}
	return Date(s), nil
}

// At returns the instant of the wall-clock time clock ("" for midnight) on d in loc.
// d and clock must be valid (ParseDate, ParseTimeOfDay).
func (d Date) At(clock TimeOfDay, loc *time.Location) time.Time {
	t, _ := time.Parse(time.DateOnly, string(d))
	h, m, s := clock.parts()
	return time.Date(t.Year(), t.Month(), t.Day(), h, m, s, 0, loc)
}

// EndIn returns the first instant after day d in loc: a deadline "on d" lasts the whole
// day at the venue.
func (d Date) EndIn(loc *time.Location) time.Time {
	start := d.At("", loc)
	return time.Date(start.Year(), start.Month(), start.Day()+1, 0, 0, 0, 0, loc)
}

// TimeOfDay is a wall-clock time, HH:mm or HH:mm:ss, local to a class's venue; "" means
// not given.
type TimeOfDay string

// ParseTimeOfDay reads HH:mm or HH:mm:ss.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"15:04", "15:04:05"} {
		if _, err := time.Parse(layout, s); err == nil {
			return TimeOfDay(s), nil
		}
	}
	return "", fmt.Errorf("%q is not a time in the form HH:mm", s)
}

func (t TimeOfDay) parts() (h, m, s int) {
	if t == "" {
		return 0, 0, 0
	}
	layout := "15:04"
	if len(t) > 5 {
		layout = "15:04:05"
	}
	p, _ := time.Parse(layout, string(t))
	return p.Hour(), p.Minute(), p.Second()
}

// Currencies are the currencies a class price may be in (the portal accepts these).
var Currencies = []string{"NOK", "EUR", "USD", "GBP"}

// Price is an exact amount in minor units (øre, cents, pence) of a currency.
type Price struct {
	Currency string
	Minor    int64
}

// maxMinor bounds prices far above any course's, so no arithmetic can overflow.
const maxMinor = 1_000_000_000_000

// ParsePrice reads a non-negative amount with at most two decimals ('.' or ',' as the
// separator) and a currency of Currencies, without going through a float.
func ParsePrice(amount, currency string) (Price, error) {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	known := false
	for _, c := range Currencies {
		known = known || c == cur
	}
	if !known {
		return Price{}, fmt.Errorf("currency %q is not one of %s", currency, strings.Join(Currencies, ", "))
	}
	s := strings.TrimSpace(amount)
	bad := fmt.Errorf("%q is not an amount like 1250 or 1250.50 (non-negative, at most two decimals)", amount)
	whole, frac, hasFrac := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	if !digits(whole) || (hasFrac && (len(frac) > 2 || !digits(frac))) {
		return Price{}, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > maxMinor/100 {
		return Price{}, fmt.Errorf("amount %q is too large", amount)
	}
	f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	return Price{Currency: cur, Minor: w*100 + f}, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Amount formats the amount with two decimals and a '.', e.g. "12500.00".
func (p Price) Amount() string { return fmt.Sprintf("%d.%02d", p.Minor/100, p.Minor%100) }

// Address is where a class takes place.
type Address struct {
	Line1, Line2, City, ZipCode, Country string
}

// Person is a student or an enroller as the portal's reserve call names them; any
// field may be empty.
type Person struct {
	FirstName, LastName, Email, Phone string
	BirthDate                         string // yyyy-MM-dd as sent, for a student
}
