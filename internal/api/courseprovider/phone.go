package courseprovider

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultCountryCode is the country assumed for phone numbers given without a country
// code, unless API.DefaultCountry says otherwise.
const DefaultCountryCode = "NO"

// CheckCountry reports whether code is a region the phone-number library knows
// (ISO 3166-1 alpha-2, such as NO, SE, GB), for the --default-country setting.
func CheckCountry(code string) error {
	if phonenumbers.GetCountryCodeForRegion(strings.ToUpper(code)) == 0 {
		return fmt.Errorf("%q is not a two-letter country code with a telephone numbering plan (NO, SE, DK, GB, ...)", code)
	}
	return nil
}

// phoneDigits writes a phone number as the public getBookingInformation example
// does: digits only, country code first, no "+" ("+47 911 11 111" and "911 11 111"
// in Norway both become 4791111111). Numbers given without a country code are read
// as numbers of defaultCountry. A number that cannot be read as a possible phone
// number is answered as given, digits only, so nothing is invented; an extension
// has no place in that format and is left out.
func phoneDigits(raw, defaultCountry string) string {
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	if defaultCountry == "" {
		defaultCountry = DefaultCountryCode
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(defaultCountry))
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return digitsOnly(raw)
	}
	return strings.TrimPrefix(phonenumbers.Format(n, phonenumbers.E164), "+")
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
