package providercall

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AnswerError says why a provider's answer could not be read. Reason is meant
// for people (the journal, admin pages) and has no package prefix.
type AnswerError struct {
	Reason string
}

// Error implements error.
func (e *AnswerError) Error() string { return "providercall: " + e.Reason }

func answerErr(format string, args ...any) error {
	return &AnswerError{Reason: fmt.Sprintf(format, args...)}
}

// errHTML is kept distinct because an HTML answer usually means a login page,
// a proxy error page or a wrong URL, and the message should say so plainly.
var errHTML = &AnswerError{Reason: "provider's answer is HTML, not JSON or XML"}

// The canonical field names. Providers spell them in any letter case, and the
// seed document and the public docs misspell some; aliases maps every accepted
// lower-case spelling to its canonical name.
const (
	fSuccessful       = "successful"
	fCancelled        = "cancelled"
	fBookingReference = "bookingReference"
	fErrorMessage     = "errorMessage"
)

var aliases = map[string]string{
	"successful":       fSuccessful,
	"sucessful":        fSuccessful, // the public docs' spelling
	"succesful":        fSuccessful,
	"cancelled":        fCancelled,
	"canceled":         fCancelled, // American spelling
	"bookingreference": fBookingReference,
	"errormessage":     fErrorMessage,
	"errormesssage":    fErrorMessage, // the seed's spelling
}

// fields holds the known fields found in an answer, as text.
type fields map[string]string

// set records a field, refusing two different values for a decisive field:
// an answer that says both "successful: true" and "successful: false" has no
// safe reading. Duplicate error messages are harmless; the first non-empty wins.
func (f fields) set(name, value string) error {
	old, seen := f[name]
	switch {
	case !seen:
		f[name] = value
	case name == fErrorMessage:
		if old == "" {
			f[name] = value
		}
	case old != value:
		return answerErr("provider's answer has conflicting values for %s (%q and %q)", name, old, value)
	}
	return nil
}

// readFields sniffs the body (JSON or XML, whatever the Content-Type said) and
// returns the known fields it holds.
func readFields(body []byte) (fields, error) {
	b := bytes.TrimLeft(body, " \t\r\n\f\v")
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	b = bytes.TrimLeft(b, " \t\r\n\f\v")
	if len(b) == 0 {
		return nil, answerErr("provider's answer is empty")
	}
	switch b[0] {
	case '{':
		return readJSON(b)
	case '<':
		if looksLikeHTML(b) {
			return nil, errHTML
		}
		return readXML(b)
	}
	return nil, answerErr("provider's answer is neither JSON nor XML (it starts with %q)", excerpt(b, 20))
}

func looksLikeHTML(b []byte) bool {
	head := strings.ToLower(string(b[:min(len(b), 64)]))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

func readJSON(b []byte) (fields, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if _, err := d.Token(); err != nil { // the opening '{', already sniffed
		return nil, answerErr("provider's answer is not valid JSON: %v", err)
	}
	f := fields{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, answerErr("provider's answer is not valid JSON: %v", err)
		}
		key, _ := tok.(string) // object keys are always strings
		name, known := aliases[strings.ToLower(key)]
		if !known {
			// Unknown fields are ignored, once read past as they are.
			var raw json.RawMessage
			if err := d.Decode(&raw); err != nil {
				return nil, answerErr("provider's answer is not valid JSON: %v", err)
			}
			continue
		}
		// A known field's value is decoded once, as the Go value it holds (a number
		// as its text, by UseNumber), rather than kept as JSON and decoded again.
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, answerErr("provider's answer is not valid JSON: %v", err)
		}
		value, present, err := jsonScalar(name, v)
		if err != nil {
			return nil, err
		}
		if !present {
			continue
		}
		if err := f.set(name, value); err != nil {
			return nil, err
		}
	}
	if _, err := d.Token(); err != nil { // the closing '}'
		return nil, answerErr("provider's answer is not valid JSON: %v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, answerErr("provider's answer has more after its JSON object")
	}
	return f, nil
}

// jsonScalar turns a decoded JSON value into text. null counts as absent, so a
// provider writing "bookingReference": null on failure reads as no reference.
func jsonScalar(name string, v any) (value string, present bool, err error) {
	switch v := v.(type) {
	case string:
		return v, true, nil
	case nil:
		return "", false, nil
	case json.Number:
		// Its JSON text is the value, so an unquoted bookingReference 1234 reads
		// as "1234" and successful 1 as "1".
		return v.String(), true, nil
	case bool:
		return strconv.FormatBool(v), true, nil // the JSON text: true or false
	}
	return "", false, answerErr("provider's answer has a %s that is not a plain value", name)
}

func readXML(b []byte) (fields, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = charsetReader
	d.Entity = xml.HTMLEntity // &nbsp; and friends appear in hand-made answers
	invalid := func(err error) error {
		return answerErr("provider's answer is not valid XML: %v", err)
	}
	// Find the root element: anything may come first except text.
	var root xml.StartElement
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, answerErr("provider's answer is XML without an element")
		}
		if err != nil {
			return nil, invalid(err)
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) > 0 {
			return nil, answerErr("provider's answer is not valid XML: text before the root element")
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	switch strings.ToLower(root.Name.Local) {
	case "html", "head", "body":
		return nil, errHTML
	}
	f := fields{}
	// Fields are child elements of the root, whatever it is called; attributes
	// on the root are accepted as well, as some XML writers prefer them.
	for _, a := range root.Attr {
		if name, known := aliases[strings.ToLower(a.Name.Local)]; known && a.Name.Space != "xmlns" {
			if err := f.set(name, strings.TrimSpace(a.Value)); err != nil {
				return nil, err
			}
		}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, invalid(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return f, nil // the root's end: whatever follows is ignored
		case xml.StartElement:
			text, plain, err := xmlText(d)
			if err != nil {
				return nil, invalid(err)
			}
			name, known := aliases[strings.ToLower(t.Name.Local)]
			if !known {
				continue
			}
			if !plain {
				return nil, answerErr("provider's answer has a %s that is not a plain value", name)
			}
			if err := f.set(name, strings.TrimSpace(text)); err != nil {
				return nil, err
			}
		}
	}
}

// xmlText reads the text of the element just started, up to its end. plain is
// false when the element holds child elements.
func xmlText(d *xml.Decoder) (text string, plain bool, err error) {
	var sb strings.Builder
	plain = true
	for {
		tok, err := d.Token()
		if err != nil {
			return "", false, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			sb.Write(t)
		case xml.StartElement:
			plain = false
			if err := d.Skip(); err != nil {
				return "", false, err
			}
		case xml.EndElement:
			return sb.String(), plain, nil
		}
	}
}

// charsetReader lets the XML decoder read the single-byte encodings that older
// (often Norwegian) booking systems declare; encoding/xml reads only UTF-8.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	var table *[32]rune
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1":
	case "windows-1252", "cp1252", "iso-8859-15", "latin9":
		// ISO-8859-15 differs from ISO-8859-1 in eight letters none of the
		// fields we read depend on; windows-1252 is the closer reading.
		table = &cp1252
	default:
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	b, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		r := rune(c)
		if table != nil && c >= 0x80 && c < 0xa0 {
			r = table[c-0x80]
		}
		out = utf8.AppendRune(out, r)
	}
	return bytes.NewReader(out), nil
}

// cp1252 maps bytes 0x80-0x9f of windows-1252; undefined bytes map to themselves.
var cp1252 = [32]rune{
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
}

// parseBool reads the booleans providers write: true/false in any case, 1/0
// and yes/no, bare or quoted. Anything else is unreadable rather than false,
// because reading "maybe" as "not reserved" could lose a held seat.
func parseBool(name, s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, answerErr("provider's answer has %s %q, which is neither true nor false", name, excerpt([]byte(s), 40))
}

// ParseReserveAnswer reads a provider's answer to a reserve call with a
// tolerant reader: JSON or XML (sniffed from the body, never from headers),
// any XML root element, key names in any letter case, the documented
// misspellings (sucessful, errorMesssage), booleans as true/"TRUE"/1/"yes",
// and a numeric bookingReference. Unknown fields are ignored.
//
// It returns an *AnswerError when the body is empty, HTML, neither JSON nor
// XML, lacks the successful field, or says successful without a
// bookingReference. A successful answer therefore always has a non-empty
// ProviderBookingReference.
func ParseReserveAnswer(body []byte) (ReserveAnswer, error) {
	f, err := readFields(body)
	if err != nil {
		return ReserveAnswer{}, err
	}
	a := ReserveAnswer{
		ProviderBookingReference: strings.TrimSpace(f[fBookingReference]),
		ErrorMessage:             strings.TrimSpace(f[fErrorMessage]),
	}
	s, ok := f[fSuccessful]
	if !ok {
		return a, answerErr("provider's answer has no successful field")
	}
	if a.Successful, err = parseBool(fSuccessful, s); err != nil {
		return a, err
	}
	if a.Successful && a.ProviderBookingReference == "" {
		// Without a reference the portal could never cancel or match the
		// booking, so this is not a usable reservation.
		a.Successful = false
		return a, answerErr("provider said successful but gave no bookingReference")
	}
	return a, nil
}

// ParseCancelAnswer reads a provider's answer to a cancel call with the same
// tolerant reader as ParseReserveAnswer; the decisive field is cancelled
// (canceled is accepted too).
func ParseCancelAnswer(body []byte) (CancelAnswer, error) {
	f, err := readFields(body)
	if err != nil {
		return CancelAnswer{}, err
	}
	a := CancelAnswer{ErrorMessage: strings.TrimSpace(f[fErrorMessage])}
	s, ok := f[fCancelled]
	if !ok {
		return a, answerErr("provider's answer has no cancelled field")
	}
	if a.Cancelled, err = parseBool(fCancelled, s); err != nil {
		return a, err
	}
	return a, nil
}

// providerMessage returns the errorMessage of a body if it can be read at all;
// used to explain non-2xx answers.
func providerMessage(body []byte) string {
	f, err := readFields(body)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(f[fErrorMessage])
}

// excerpt shortens text for an error message, on a rune boundary.
func excerpt(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}
