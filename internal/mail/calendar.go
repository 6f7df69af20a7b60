package mail

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
)

// The iTIP methods of the calendar entries (RFC 5546).
const (
	Publish = ics.MethodPublish // a file to import: the web pages' download
	Request = ics.MethodRequest // an invitation, or its update
	Cancel  = ics.MethodCancel  // the invitation withdrawn
)

// CalendarEntry is what the iCalendar text of one booked class is made from.
type CalendarEntry struct {
	Booking  booking.Booking
	Class    catalog.Class
	Course   catalog.Course
	Provider catalog.Provider
	Method   ics.Method
	// Sequence orders the versions of one entry; a calendar applies an update only
	// when it is higher than the one it has (0: omitted).
	Sequence int
	// Organizer is the e-mail address invitations come from; "" for none.
	Organizer string
	// Attendee is the address the invitation is for; "" for none.
	Attendee, AttendeeName string
	Stamp                  time.Time // DTSTAMP: when this version was made
}

// UID is the stable identifier of a booking's calendar entry: every update and the
// cancellation name the same entry.
func UID(ref string) string { return ref + "@tportal" }

// Calendar is the iCalendar text of one booked class: its start and end in the class's
// local time with its IANA time zone (TZID), or whole days when the class has no
// times; cancelled when the method is CANCEL or the booking or class is cancelled.
//
// It is written directly, as github.com/arran4/golang-ical v0.3.4 serializes the same
// calendar (property order, escaping, line folding, "\n" line ends), which a test
// holds it to byte for byte: building the library's calendar took ~40 allocations
// and was most of a booking confirmation's CPU.
func Calendar(e CalendarEntry) string {
	b, c := e.Booking, e.Class
	w := calendarWriter{}
	w.out.Grow(1024)
	w.line("BEGIN:VCALENDAR")
	w.text("VERSION", "2.0")
	w.text("PRODID", "-//tportal//Golang ICS Library")
	w.text("METHOD", string(e.Method))
	w.line("BEGIN:VEVENT")
	w.text("UID", UID(b.Reference))
	w.prop("DTSTAMP", "", e.Stamp.UTC().Format("20060102T150405Z"))
	if e.Sequence > 0 {
		w.prop("SEQUENCE", "", strconv.Itoa(e.Sequence))
	}
	loc := c.Zone()
	const local = "20060102T150405"
	if c.StartTime != nil {
		tzid := ";TZID=" + paramValue(c.TimeZone)
		w.prop("DTSTART", tzid, c.StartDate.At(*c.StartTime, loc).Format(local))
		end := catalog.TimeOfDay{Hour: 23, Minute: 59}
		if c.EndTime != nil {
			end = *c.EndTime
		}
		w.prop("DTEND", tzid, c.EndDate.At(end, loc).Format(local))
	} else {
		const date = "20060102"
		w.prop("DTSTART", ";VALUE=DATE", c.StartDate.At(catalog.TimeOfDay{}, loc).Format(date))
		w.prop("DTEND", ";VALUE=DATE", c.EndDate.At(catalog.TimeOfDay{}, loc).AddDate(0, 0, 1).Format(date)) // DTEND is exclusive
	}
	w.text("SUMMARY", e.Course.Name)
	w.text("LOCATION", Place(c))
	w.text("DESCRIPTION", "Booking "+b.Reference+" for "+b.Student.FirstName+" "+b.Student.LastName+
		" with "+e.Provider.Name+". Class "+c.ExternalID+".")
	if e.Organizer != "" {
		w.prop("ORGANIZER", ";CN=Trainingportal", "mailto:"+e.Organizer)
	}
	if e.Attendee != "" {
		w.prop("ATTENDEE", ";CN="+paramValue(e.AttendeeName)+";ROLE=REQ-PARTICIPANT;RSVP=false", "mailto:"+e.Attendee)
	}
	if e.Method == Cancel || b.State == booking.Cancelled || c.Cancelled() {
		w.text("STATUS", string(ics.ObjectStatusCancelled))
	} else {
		w.text("STATUS", string(ics.ObjectStatusConfirmed))
	}
	w.line("END:VEVENT")
	w.line("END:VCALENDAR")
	return w.out.String()
}

// calendarWriter writes iCalendar content lines.
type calendarWriter struct {
	out     strings.Builder
	scratch []byte // the content line being written, before folding
}

// maxLine is the longest line in octets (RFC 5545 3.1).
const maxLine = 75

func (w *calendarWriter) line(s string) {
	w.out.WriteString(s)
	w.out.WriteByte('\n')
}

// text writes a property of type TEXT, its value escaped.
func (w *calendarWriter) text(name, value string) {
	l := append(w.scratch[:0], name...)
	l = append(l, ':')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\', ';', ',':
			l = append(l, '\\', c)
		case '\n':
			l = append(l, '\\', 'n')
		default:
			l = append(l, c)
		}
	}
	w.scratch = l
	w.fold(l)
}

// prop writes a property whose value needs no escaping; params is its parameters,
// each ";NAME=value", in the order of their names.
func (w *calendarWriter) prop(name, params, value string) {
	l := append(w.scratch[:0], name...)
	l = append(l, params...)
	l = append(l, ':')
	l = append(l, value...)
	w.scratch = l
	w.fold(l)
}

// fold writes a content line, folded as golang-ical folds it: at most maxLine octets
// on the first line and maxLine-1 after each continuation's leading space, cut
// before the last space or '<', or after the last '>', that fits.
func (w *calendarWriter) fold(l []byte) {
	if len(l) > maxLine {
		first := foldCut(maxLine, l)
		w.out.Write(l[:first])
		w.out.WriteByte('\n')
		l = l[first:]
		for len(l) > maxLine-1 {
			n := foldCut(maxLine-1, l)
			w.out.WriteByte(' ')
			w.out.Write(l[:n])
			w.out.WriteByte('\n')
			l = l[n:]
		}
		w.out.WriteByte(' ')
	}
	w.out.Write(l)
	w.out.WriteByte('\n')
}

// foldCut is how many bytes of s the line that holds at most max of them takes.
func foldCut(max int, s []byte) int {
	length, boundary := 0, -1
	var last rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == ' ' || r == '<' || last == '>' {
			boundary = i
		}
		last = r
		// As golang-ical counts it: an invalid byte as the 3 of U+FFFD.
		n := length + utf8.RuneLen(r)
		if n > max {
			break
		}
		length = n
		i += size
	}
	if boundary > 0 {
		return boundary
	}
	return length
}

// paramValue is a parameter value escaped as golang-ical escapes an unquoted one.
func paramValue(v string) string {
	if !strings.ContainsAny(v, ",\";:\\'") {
		return v
	}
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ',', '"', ';', ':', '\\', '\'':
			sb.WriteByte('\\')
		}
		sb.WriteByte(v[i])
	}
	return sb.String()
}

// Place is where a class meets, as one line: its location and address.
func Place(c catalog.Class) string {
	var where []string
	for _, part := range []string{c.Location, c.Address.Line1, c.Address.Line2, strings.TrimSpace(c.Address.ZipCode + " " + c.Address.City), c.Address.Country} {
		if part != "" {
			where = append(where, part)
		}
	}
	return strings.Join(where, ", ")
}
