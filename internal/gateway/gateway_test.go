package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
)

func ptr[T any](v T) *T { return &v }

var now = time.Date(2027, 4, 20, 12, 0, 0, 0, time.UTC)

func fields() gateway.ClassFields {
	return gateway.ClassFields{
		Location: ptr("Oslo"), Seats: ptr(12),
		Start: ptr("2027-05-10T09:00"), End: ptr("2027-05-11T15:30"),
		EnrollmentDeadline: ptr("2027-05-01"), CancellationDeadline: ptr("2027-05-05"),
		Amount: ptr("12500.00"), Currency: ptr("NOK"),
		AddressLine1: ptr("Karl Johans gate 1"), City: ptr("Oslo"), ZipCode: ptr("0154"), Country: ptr("NO"),
	}
}

func TestNewClass(t *testing.T) {
	tests := []struct {
		name   string
		change func(*gateway.ClassFields)
		want   string // "" for valid; else a part of the Invalid message
	}{
		{"valid", func(*gateway.ClassFields) {}, ""},
		{"date only", func(f *gateway.ClassFields) { f.Start, f.End = ptr("2027-05-10"), ptr("2027-05-10") }, ""},
		{"missing", func(f *gateway.ClassFields) { f.City, f.Seats = nil, nil }, "seats: is required; city: is required"},
		{"negative seats", func(f *gateway.ClassFields) { f.Seats = ptr(-1) }, "seats: must be 0 or more"},
		{"end before start", func(f *gateway.ClassFields) { f.End = ptr("2027-05-09T10:00") }, "end: 2027-05-09 is before the start"},
		{"same day, end before start time", func(f *gateway.ClassFields) { f.End = ptr("2027-05-10T08:00") }, "end: 08:00 is not after the start time 09:00"},
		{"deadline after start", func(f *gateway.ClassFields) { f.EnrollmentDeadline = ptr("2027-05-11") }, "enrollment-deadline: 2027-05-11 is after the start date"},
		{"bad date", func(f *gateway.ClassFields) { f.Start = ptr("10.05.2027") }, `start: "10.05.2027" is not a date and time`},
		{"bad time", func(f *gateway.ClassFields) { f.Start = ptr("2027-05-10T25:00") }, `start: "2027-05-10T25:00" is not a date and time`},
		{"too far ahead", func(f *gateway.ClassFields) { f.Start, f.End = ptr("2040-01-01"), ptr("2040-01-02") }, "start: 2040-01-01 is outside"},
		{"bad zone", func(f *gateway.ClassFields) { f.TimeZone = ptr("Mars/Olympus") }, `time-zone: "Mars/Olympus" is not an IANA time zone`},
		{"bad currency", func(f *gateway.ClassFields) { f.Currency = ptr("SEK") }, `price: currency "SEK" is not one of NOK, EUR, USD, GBP`},
		{"three decimals", func(f *gateway.ClassFields) { f.Amount = ptr("1.005") }, "price: \"1.005\" is not an amount"},
		{"control character", func(f *gateway.ClassFields) { f.Location = ptr("Os\x00lo") }, "location: contains control characters"},
		{"too long", func(f *gateway.ClassFields) { f.City = ptr(strings.Repeat("ø", 101)) }, "city: is longer than 100 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fields()
			tc.change(&f)
			c, err := gateway.NewClass("BST", "OSL-W40", f, now)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.FreeSeats != c.Seats || c.TimeZone != gateway.DefaultTimeZone || !c.SendScheduleInfo {
					t.Errorf("defaults: %+v", c)
				}
				return
			}
			if !errs.Is(err, errs.Invalid) || !strings.Contains(errs.MessageOf(err), tc.want) {
				t.Errorf("got %v, want Invalid containing %q", err, tc.want)
			}
		})
	}
}

func TestParsePrice(t *testing.T) {
	tests := []struct {
		amount, currency string
		want             gateway.Price
		ok               bool
	}{
		{"12500.00", "NOK", gateway.Price{"NOK", 1250000}, true},
		{"12500", "nok", gateway.Price{"NOK", 1250000}, true},
		{"0,5", "EUR", gateway.Price{"EUR", 50}, true},
		{"19.99", "USD", gateway.Price{"USD", 1999}, true},
		{"-1", "NOK", gateway.Price{}, false},
		{"1.", "NOK", gateway.Price{}, false},
		{".5", "NOK", gateway.Price{}, false},
		{"1e3", "NOK", gateway.Price{}, false},
		{"99999999999999", "NOK", gateway.Price{}, false},
	}
	for _, tc := range tests {
		got, err := gateway.ParsePrice(tc.amount, tc.currency)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParsePrice(%q, %q) = %+v, %v", tc.amount, tc.currency, got, err)
		}
		if tc.ok && got.Amount() != map[int64]string{1250000: "12500.00", 50: "0.50", 1999: "19.99"}[got.Minor] {
			t.Errorf("Amount() = %q", got.Amount())
		}
	}
}

// TestDeadlines checks that a deadline lasts to the end of its day at the venue,
// across a daylight-saving change (Oslo goes to summer time on 2027-03-28).
func TestDeadlines(t *testing.T) {
	f := fields()
	f.Start, f.End = ptr("2027-04-10"), ptr("2027-04-10")
	f.EnrollmentDeadline, f.CancellationDeadline = ptr("2027-03-28"), ptr("2027-03-28")
	c, err := gateway.NewClass("BST", "X", f, now.AddDate(0, -2, 0))
	if err != nil {
		t.Fatal(err)
	}
	oslo, _ := time.LoadLocation("Europe/Oslo")
	tests := []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2027, 3, 28, 23, 59, 59, 0, oslo), true},
		{time.Date(2027, 3, 28, 21, 59, 59, 0, time.UTC), true}, // 23:59:59 CEST
		{time.Date(2027, 3, 28, 22, 0, 0, 0, time.UTC), false},  // midnight CEST
		{time.Date(2027, 3, 29, 0, 0, 0, 0, oslo), false},
	}
	for _, tc := range tests {
		if c.EnrollmentOpen(tc.at) != tc.open || c.CancellationOpen(tc.at) != tc.open {
			t.Errorf("at %s: open = %v, want %v", tc.at, c.EnrollmentOpen(tc.at), tc.open)
		}
	}
	err = c.CheckReservable(time.Date(2027, 3, 29, 0, 0, 0, 0, oslo))
	if !errs.Is(err, errs.Conflict) || errs.MessageOf(err) != "enrollment for class BST/X closed on 2027-03-28" {
		t.Errorf("after the deadline: %v", err)
	}
}

func TestBookingTransitions(t *testing.T) {
	c, err := gateway.NewClass("BST", "OSL-W40", fields(), now)
	if err != nil {
		t.Fatal(err)
	}
	afterDeadline := time.Date(2027, 5, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		from gateway.Status
		do   func(*gateway.Booking) error
		want gateway.Status
		code errs.Code
	}{
		{"cancel held", gateway.Held, func(b *gateway.Booking) error { return b.Cancel(&c, now) }, gateway.Cancelled, ""},
		{"cancel held after the deadline (clean-up)", gateway.Held, func(b *gateway.Booking) error { return b.Cancel(&c, afterDeadline) }, gateway.Cancelled, ""},
		{"cancel confirmed", gateway.Confirmed, func(b *gateway.Booking) error { return b.Cancel(&c, now) }, gateway.Cancelled, ""},
		{"cancel confirmed after the deadline", gateway.Confirmed, func(b *gateway.Booking) error { return b.Cancel(&c, afterDeadline) }, gateway.Confirmed, errs.Conflict},
		{"cancel cancelled", gateway.Cancelled, func(b *gateway.Booking) error { return b.Cancel(&c, afterDeadline) }, gateway.Cancelled, ""},
		{"cancel released", gateway.Released, func(b *gateway.Booking) error { return b.Cancel(&c, now) }, gateway.Released, ""},
		{"cancel completed", gateway.Completed, func(b *gateway.Booking) error { return b.Cancel(&c, now) }, gateway.Completed, errs.Conflict},
		{"confirm held", gateway.Held, (*gateway.Booking).Confirm, gateway.Confirmed, ""},
		{"confirm confirmed", gateway.Confirmed, (*gateway.Booking).Confirm, gateway.Confirmed, ""},
		{"confirm cancelled", gateway.Cancelled, (*gateway.Booking).Confirm, gateway.Cancelled, errs.Conflict},
		{"release held", gateway.Held, func(b *gateway.Booking) error { return b.Release("410") }, gateway.Released, ""},
		{"release confirmed", gateway.Confirmed, func(b *gateway.Booking) error { return b.Release("410") }, gateway.Confirmed, errs.Conflict},
		{"no-show on held", gateway.Held, func(b *gateway.Booking) error { return b.RecordAttendance(gateway.NoShow, "", &c, afterDeadline) }, gateway.Held, errs.Conflict},
		{"no-show on confirmed", gateway.Confirmed, func(b *gateway.Booking) error { return b.RecordAttendance(gateway.NoShow, "", &c, afterDeadline) }, gateway.NoShow, ""},
		{"not an outcome", gateway.Confirmed, func(b *gateway.Booking) error { return b.RecordAttendance(gateway.Held, "", &c, afterDeadline) }, gateway.Confirmed, errs.Invalid},
	}
	for _, tc := range tests {
		b := gateway.Booking{Reference: "1001", Status: tc.from}
		err := tc.do(&b)
		if errs.CodeOf(err) != tc.code && !(err == nil && tc.code == "") || b.Status != tc.want {
			t.Errorf("%s: %v, status %s; want code %q, status %s", tc.name, err, b.Status, tc.code, tc.want)
		}
	}
	for _, s := range gateway.Statuses {
		if s.HoldsSeat() == (s == gateway.Released || s == gateway.Cancelled) {
			t.Errorf("%s.HoldsSeat() = %v", s, s.HoldsSeat())
		}
	}
	if _, err := gateway.ParseOutcome("completed"); err != nil {
		t.Error(err)
	}
	if _, err := gateway.ParseOutcome("HELD"); !errs.Is(err, errs.Invalid) {
		t.Errorf("ParseOutcome(HELD): %v", err)
	}
}

// FuzzParsePrice reads any amount: an accepted one is exact and survives a round trip
// through Amount.
func FuzzParsePrice(f *testing.F) {
	for _, seed := range []string{"12500.00", "0,5", "1.", "-0", "9999999999.99", "1e3", " 7 ", "١٢"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, amount string) {
		p, err := gateway.ParsePrice(amount, "NOK")
		if err != nil {
			return
		}
		again, err := gateway.ParsePrice(p.Amount(), p.Currency)
		if err != nil || again != p || p.Minor < 0 {
			t.Fatalf("%q read as %+v (%s), which reads back as %+v, %v", amount, p, p.Amount(), again, err)
		}
	})
}
