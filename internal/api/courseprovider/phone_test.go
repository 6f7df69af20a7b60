package courseprovider

import (
	"strings"
	"testing"
)

func TestPhoneDigits(t *testing.T) {
	tests := []struct {
		raw, country, want string
	}{
		{"+47 911 11 111", "NO", "4791111111"},
		{"911 11 111", "NO", "4791111111"},        // no country code: the default country's
		{"911 11 111", "", "4791111111"},          // the default default is NO
		{"0047 911 11 111", "NO", "4791111111"},   // international prefix
		{"4791111111", "NO", "4791111111"},        // already as the example shows it
		{"+46 70 123 45 67", "NO", "46701234567"}, // another country's number keeps its code
		{"070-123 45 67", "SE", "46701234567"},    // national format of the default country
		{"070-123 45 67", "no", "0701234567"},     // not a Norwegian number: as given, digits only
		{"+1 (415) 555-0100", "NO", "14155550100"},
		{"+47 22 22 22 22 ext. 5", "NO", "4722222222"}, // no place for an extension
		{"12", "NO", "12"},
		{"call me", "NO", ""},
		{"", "NO", ""},
		{"   ", "NO", ""},
	}
	for _, tt := range tests {
		if got := phoneDigits(tt.raw, tt.country); got != tt.want {
			t.Errorf("phoneDigits(%q, %q) = %q, want %q", tt.raw, tt.country, got, tt.want)
		}
	}
}

func TestCheckCountry(t *testing.T) {
	for code, ok := range map[string]bool{"NO": true, "se": true, "GB": true, "XX": false, "NOR": false, "": false, "47": false} {
		if err := CheckCountry(code); (err == nil) != ok {
			t.Errorf("CheckCountry(%q) = %v, want ok=%v", code, err, ok)
		}
	}
}

// FuzzPhoneDigits: whatever an enroller typed, the answer is digits only and never
// longer than what a phone number can be (the country code and at most 17 digits), or
// the digits that were typed.
func FuzzPhoneDigits(f *testing.F) {
	for _, s := range []string{"+47 911 11 111", "0047", "+", "ext. 5", "+1 (415) 555-0100 x12", "٠١٢٣", "+4٧ 91111111"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := phoneDigits(raw, "NO")
		if strings.Trim(got, "0123456789") != "" {
			t.Fatalf("phoneDigits(%q) = %q: not digits only", raw, got)
		}
		if len(got) > 20 && len(got) > len(digitsOnly(raw)) {
			t.Fatalf("phoneDigits(%q) = %q: longer than any phone number and than the input's digits", raw, got)
		}
	})
}
