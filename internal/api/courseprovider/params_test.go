package courseprovider

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCharsetDecoder(t *testing.T) {
	for _, tt := range []struct {
		charset string
		in      string
		want    string // the decoded text, or a part of the error
	}{
		{"", "Tromsø", "Tromsø"},
		{"UTF-8", "Tromsø", "Tromsø"},
		{"utf8", "Tromsø", "Tromsø"},
		{"us-ascii", "Oslo", "Oslo"},
		{"ISO-8859-1", "Troms\xf8", "Tromsø"},
		{"iso-8859-1", "\xc5lesund", "Ålesund"},
		{"latin1", "Bod\xf8", "Bodø"},
		{"windows-1252", "\x80 50", "€ 50"},
		{"cp1252", "\x80", "€"},
		{"ISO-8859-15", "\xa4", "€"},
		{"x-klingon", "", `charset "x-klingon" is not known`},
		{"iso-2022-kr", "", "is not known"}, // WHATWG's "replacement": it would decode to U+FFFD
		{"lat\u00efn1", "", `charset "lat\u00efn1" is not known`},
	} {
		dec, err := charsetDecoder(tt.charset)
		var got string
		switch {
		case err != nil:
			got = err.Error()
		case dec == nil:
			got = tt.in
		default:
			got, _ = dec.String(tt.in)
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("charset %q on %q = %q, want %q", tt.charset, tt.in, got, tt.want)
		}
	}
}

func TestReadJSONParams(t *testing.T) {
	var p params
	p.Values = map[string][]string{}
	body := `{"externalId": "W40", "availableSeats": 12, "sendScheduleInfoToParticipants": false, "addressLine2": null,
		"address": {"city": "Oslo", "zipCode": "0154"}, "price": {"amount": 1250.50, "currency": "NOK"}, "price.amount": "9"}`
	if err := p.readJSON(strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	f := p.classFields()
	for name, got := range map[string]*string{
		"externalId": f.ExternalID, "availableSeats": f.AvailableSeats, "sendScheduleInfoToParticipants": f.SendScheduleInfo,
		"address.city": f.City, "address.zipCode": f.ZipCode, "price.currency": f.Currency,
	} {
		if got == nil {
			t.Errorf("%s not read", name)
		}
	}
	if *f.AvailableSeats != "12" || *f.SendScheduleInfo != "false" || *f.City != "Oslo" || f.AddressLine2 != nil {
		t.Errorf("fields = seats %q, schedule %q, city %q, line2 %v", *f.AvailableSeats, *f.SendScheduleInfo, *f.City, f.AddressLine2)
	}
	// The exact decimal text is kept, never a float.
	if amounts := p.Values["price.amount"]; len(amounts) != 2 || !strings.Contains(strings.Join(amounts, " "), "1250.50") {
		t.Errorf("price.amount = %q", amounts)
	}
}

// BenchmarkReadParams measures reading a class's parameters from a urlencoded body,
// text rule included, in UTF-8 and in a declared Latin-1.
func BenchmarkReadParams(b *testing.B) {
	body := "username=acme&password=secret-password&externalId=W40&location=Troms%C3%B8&availableSeats=12" +
		"&enrollmentDeadline=2030-09-20&cancellationDeadline=2030-09-25&startDate=2030-10-01&startTime=09:00" +
		"&endDate=2030-10-03&endTime=15:30&address.addressLine1=Karl+Johans+gate+1&address.city=Oslo" +
		"&address.zipCode=0154&address.country=NO&price.currency=NOK&price.amount=12500.50"
	for _, bc := range []struct{ name, contentType, body string }{
		{"utf-8", "application/x-www-form-urlencoded", body},
		{"latin1", "application/x-www-form-urlencoded; charset=ISO-8859-1", strings.Replace(body, "%C3%B8", "%F8", 1)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/x", strings.NewReader(bc.body))
				req.Header.Set("Content-Type", bc.contentType)
				if _, err := readParams(httptest.NewRecorder(), req, maxFormBytes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
