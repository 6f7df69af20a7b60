package wire

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AppendJSON appends c as encoding/json encodes it (the same bytes, HTML-escaped as
// json.Encoder does by default), without reflection: a class list writes thousands.
// prefix is written inside the object before the class's own fields, e.g.
// `"id":7,"courseId":3,` for a type that embeds Class; "" for none.
func AppendJSON(b []byte, prefix string, c *Class) []byte {
	b = append(b, '{')
	b = append(b, prefix...)
	b = append(b, `"externalId":`...)
	b = appendString(b, c.ExternalID)
	b = append(b, `,"courseExternalId":`...)
	b = appendString(b, c.CourseExternalID)
	b = append(b, `,"cancelled":`...)
	b = strconv.AppendBool(b, c.Cancelled)
	b = append(b, `,"location":`...)
	b = appendString(b, c.Location)
	b = append(b, `,"availableSeats":`...)
	b = strconv.AppendInt(b, int64(c.AvailableSeats), 10)
	b = append(b, `,"enrollmentDeadline":`...)
	b = appendString(b, c.EnrollmentDeadline)
	b = append(b, `,"cancellationDeadline":`...)
	b = appendString(b, c.CancellationDeadline)
	b = append(b, `,"startDate":`...)
	b = appendString(b, c.StartDate)
	b = append(b, `,"startTime":`...)
	b = appendStringPtr(b, c.StartTime)
	b = append(b, `,"endDate":`...)
	b = appendString(b, c.EndDate)
	b = append(b, `,"endTime":`...)
	b = appendStringPtr(b, c.EndTime)
	b = append(b, `,"timeZone":`...)
	b = appendString(b, c.TimeZone)
	b = append(b, `,"address":{"addressLine1":`...)
	b = appendString(b, c.Address.AddressLine1)
	b = append(b, `,"addressLine2":`...)
	b = appendString(b, c.Address.AddressLine2)
	b = append(b, `,"city":`...)
	b = appendString(b, c.Address.City)
	b = append(b, `,"zipCode":`...)
	b = appendString(b, c.Address.ZipCode)
	b = append(b, `,"country":`...)
	b = appendString(b, c.Address.Country)
	b = append(b, `},"price":{"currency":`...)
	b = appendString(b, c.Price.Currency)
	b = append(b, `,"amount":`...)
	b = appendNumber(b, c.Price.Amount)
	b = append(b, `},"sendScheduleInfoToParticipants":`...)
	b = strconv.AppendBool(b, c.SendScheduleInfoToParticipants)
	return append(b, '}')
}

// appendString appends s as a JSON string. Text that needs no escape — valid UTF-8
// without control characters, quotes, backslashes, <, >, & or U+2028/U+2029 — is
// copied; anything else goes through encoding/json, so the bytes are always its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return appendMarshalled(b, s)
		case c >= utf8.RuneSelf:
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\u2028\u2029") {
				return appendMarshalled(b, s)
			}
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMarshalled(b []byte, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, out...)
}

func appendStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

// appendNumber appends a json.Number; one that is not a plain decimal goes through
// encoding/json (which refuses an invalid one: then null, never broken JSON).
func appendNumber(b []byte, n json.Number) []byte {
	s := string(n)
	if s == "" {
		return append(b, '0') // encoding/json writes an empty Number as 0
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' {
			return appendMarshalled(b, n)
		}
	}
	if s[0] == '.' || s[len(s)-1] == '.' || strings.Count(s, ".") > 1 || (len(s) > 1 && s[0] == '0' && s[1] != '.') {
		return appendMarshalled(b, n)
	}
	return append(b, s...)
}

// AppendJSONArray appends n classes as a JSON array followed by a newline, the bytes
// json.Encoder.Encode writes for the slice of them. class returns the i-th class and
// its prefix (see AppendJSON): the classes are made one at a time as they are
// written, so that a long list needs no slice of them beside its bytes.
func AppendJSONArray(b []byte, n int, class func(i int) (prefix string, c Class)) []byte {
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		p, c := class(i)
		b = AppendJSON(b, p, &c)
	}
	return append(b, "]\n"...)
}
