package catalog

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0", 0, false},
		{"1250", 125000, false},
		{"1250.5", 125050, false},
		{"1250,50", 125050, false},
		{" 99.99 ", 9999, false},
		{"0.01", 1, false},
		{"10000000000", 1000000000000, false},
		{"10000000001", 0, true},
		{"-1", 0, true},
		{"1.234", 0, true},
		{"1.", 0, true},
		{".5", 0, true},
		{"1,000.00", 0, true},
		{"1e3", 0, true},
		{"", 0, true},
		{"NaN", 0, true},
		{"12 500", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMoneyAmountRoundTrips(t *testing.T) {
	for _, minor := range []int64{0, 1, 10, 99, 100, 125050, 999999999} {
		s := Money{Currency: "NOK", Minor: minor}.Amount()
		back, err := ParseAmount(s)
		if err != nil || back != minor {
			t.Errorf("Amount(%d) = %q, parses back to %d, %v", minor, s, back, err)
		}
	}
}

func TestParseDateAndTime(t *testing.T) {
	for _, s := range []string{"2026-02-30", "26-01-01", "2026/01/01", "", "2026-1-1"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) succeeded", s)
		}
	}
	d, err := ParseDate("2024-02-29")
	if err != nil || d.String() != "2024-02-29" {
		t.Errorf("ParseDate(2024-02-29) = %v, %v", d, err)
	}
	times := map[string]string{"09:00": "09:00", "9:05": "09:05", "23:59:30": "23:59:30", "24:00": "", "12:60": "", "07:15:00": "07:15"}
	for in, want := range times {
		got, err := ParseTimeOfDay(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParseTimeOfDay(%q) = %v, want an error", in, got)
			}
			continue
		}
		if err != nil || got.String() != want {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}

// The instants of a class follow its zone across daylight-saving changes.
func TestClassInstantsAcrossDST(t *testing.T) {
	nine := TimeOfDay{Hour: 9}
	tests := []struct {
		name      string
		start     Date
		zone      string
		wantStart string // UTC
		wantClose string // enrollment closes: end of deadline day, UTC
	}{
		{"winter in Oslo", Date{2026, time.January, 15}, "Europe/Oslo", "2026-01-15T08:00:00Z", "2026-01-15T23:00:00Z"},
		{"summer in Oslo", Date{2026, time.July, 15}, "Europe/Oslo", "2026-07-15T07:00:00Z", "2026-07-15T22:00:00Z"},
		{"day clocks go forward", Date{2026, time.March, 29}, "Europe/Oslo", "2026-03-29T07:00:00Z", "2026-03-29T22:00:00Z"},
		{"day clocks go back", Date{2026, time.October, 25}, "Europe/Oslo", "2026-10-25T08:00:00Z", "2026-10-25T23:00:00Z"},
		{"New York", Date{2026, time.July, 15}, "America/New_York", "2026-07-15T13:00:00Z", "2026-07-16T04:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Class{StartDate: tt.start, StartTime: &nine, EnrollmentDeadline: tt.start, TimeZone: tt.zone}
			if got := c.StartsAt().UTC().Format(time.RFC3339); got != tt.wantStart {
				t.Errorf("StartsAt = %s, want %s", got, tt.wantStart)
			}
			if got := c.EnrollmentClosesAt().UTC().Format(time.RFC3339); got != tt.wantClose {
				t.Errorf("EnrollmentClosesAt = %s, want %s", got, tt.wantClose)
			}
		})
	}
}

// TestFastPathsMatchTimePackage checks the hand-written date and time readers and
// writers against the time package's, on the edges of the calendar.
func TestFastPathsMatchTimePackage(t *testing.T) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "2030-12-31", "2030-13-01", "2030-00-10", "2030-04-31",
		"0001-01-01", "9999-12-31", "2030-1-01", "2030-01-1x", " 2030-01-01", "2030/01/01", "1900-02-29", "2000-02-29"} {
		got, err := ParseDate(s)
		tt, terr := time.Parse("2006-01-02", strings.TrimSpace(s))
		if (err != nil) != (terr != nil) {
			t.Errorf("ParseDate(%q) error %v, time.Parse error %v", s, err, terr)
			continue
		}
		if err == nil && (got != DateOf(tt) || got.String() != tt.Format("2006-01-02")) {
			t.Errorf("ParseDate(%q) = %v (%s), want %s", s, got, got, tt.Format("2006-01-02"))
		}
	}
	for _, s := range []string{"09:00", "23:59:59", "24:00", "09:60", "00:00:00", "9:00", "09:00:5", "12:30:07"} {
		got, err := ParseTimeOfDay(s)
		var want time.Time
		var werr error
		for _, layout := range []string{"15:04", "15:04:05"} {
			if want, werr = time.Parse(layout, s); werr == nil {
				break
			}
		}
		if (err != nil) != (werr != nil) {
			t.Errorf("ParseTimeOfDay(%q) error %v, time.Parse error %v", s, err, werr)
			continue
		}
		if err == nil && got != (TimeOfDay{want.Hour(), want.Minute(), want.Second()}) {
			t.Errorf("ParseTimeOfDay(%q) = %v", s, got)
		}
	}
	for _, m := range []int64{0, 5, 99, 100, 1250050, 1_000_000_000_000, -150} {
		if got, want := (Money{Minor: m}).Amount(), fmt.Sprintf("%d.%02d", m/100, m%100); got != want {
			t.Errorf("Amount(%d) = %s, want %s", m, got, want)
		}
	}
}
