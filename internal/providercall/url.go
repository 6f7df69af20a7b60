package providercall

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Param is one parameter of a call: placed in the URL template where a
// placeholder names it (or one of its aliases), otherwise appended as a
// query parameter.
type Param struct {
	Name  string
	Value string
	// Aliases are further placeholder names for the same value, such as
	// providerBookingReference for a cancel call's bookingReference. Aliases
	// are never used as query parameter names.
	Aliases []string
}

// ExpandURL builds the URL of a call from a registered URL template.
//
// A placeholder is a parameter name (or alias) in braces, matched in any
// letter case: https://p.example/classes/{externalCourseClassId}/reserve.
// Values are URL-encoded for where they stand (path or query); a placeholder
// in the path must not be empty, as that would call another resource.
// Placeholders in the scheme or host are refused, so booking data can never
// choose the server called. Parameters not placed by the template are
// appended as query parameters in the order given, skipping empty values and
// names the template's own query already has; the template's own query
// parameters are kept as written.
func ExpandURL(template string, params []Param) (string, error) {
	u, err := expand(template, params, true)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// expand is ExpandURL, the rest appended or not, returning the URL as parsed: a call
// journals and checks it without parsing its text again.
func expand(template string, params []Param, appendRest bool) (*url.URL, error) {
	placed := make([]bool, len(params))

	hostEnd := authorityEnd(template)
	var sb strings.Builder
	query := false // whether we are past the '?' (or in the fragment)
	for i := 0; i < len(template); {
		c := template[i]
		if c == '?' || c == '#' {
			query = true
		}
		if c != '{' {
			sb.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(template[i+1:], '}')
		if end < 0 || !isIdent(template[i+1:i+1+end]) {
			sb.WriteByte(c) // a lone brace is not a placeholder
			i++
			continue
		}
		name := template[i+1 : i+1+end]
		if i < hostEnd {
			return nil, fmt.Errorf("providercall: placeholder {%s} is not allowed in the scheme or host of %q", name, template)
		}
		idx := paramIndex(params, name)
		if idx < 0 {
			return nil, fmt.Errorf("providercall: unknown placeholder {%s} in %q", name, template)
		}
		placed[idx] = true
		v := params[idx].Value
		if query {
			sb.WriteString(url.QueryEscape(v))
		} else {
			if v == "" {
				return nil, fmt.Errorf("providercall: placeholder {%s} in the path of %q has no value", name, template)
			}
			sb.WriteString(url.PathEscape(v))
		}
		i += end + 2
	}

	u, err := url.Parse(sb.String())
	if err != nil {
		return nil, fmt.Errorf("providercall: invalid URL %q: %v", redactString(template), unwrapURLError(err))
	}
	if !appendRest {
		return u, nil
	}
	own, _ := url.ParseQuery(u.RawQuery) // a malformed template query is kept as is
	// The query is written into one buffer: a string per parameter joined at the end
	// was a dozen allocations per call.
	var q strings.Builder
	for i, p := range params {
		if placed[i] || p.Value == "" {
			continue
		}
		if _, dup := own[p.Name]; dup {
			continue
		}
		if q.Len() == 0 {
			q.Grow(len(u.RawQuery) + 512)
			q.WriteString(u.RawQuery)
		}
		if q.Len() > 0 {
			q.WriteByte('&')
		}
		q.WriteString(url.QueryEscape(p.Name))
		q.WriteByte('=')
		q.WriteString(url.QueryEscape(p.Value))
	}
	if q.Len() > 0 {
		u.RawQuery = q.String()
	}
	u.ForceQuery = false
	return u, nil
}

// paramIndex returns the index of the parameter a placeholder names, by name or
// alias in any letter case (the last one when several match), or -1. A linear
// search: a call has a dozen parameters, and a map of their lowered names was a
// good share of a booking's CPU in providercall.
func paramIndex(params []Param, name string) int {
	for i := len(params) - 1; i >= 0; i-- {
		if strings.EqualFold(params[i].Name, name) {
			return i
		}
		for _, a := range params[i].Aliases {
			if strings.EqualFold(a, name) {
				return i
			}
		}
	}
	return -1
}

// authorityEnd returns the index where the path starts in an absolute URL
// template; placeholders before it would be in the scheme or host.
func authorityEnd(s string) int {
	i := strings.Index(s, "://")
	if i < 0 {
		return 0 // no authority: url parsing will refuse the URL later
	}
	j := strings.IndexAny(s[i+3:], "/?#")
	if j < 0 {
		return len(s)
	}
	return i + 3 + j
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// secretWords mark query parameter names whose values must not reach the
// journal or the logs; a provider may put an API key in its registered URL.
var secretWords = []string{"password", "passwd", "secret", "token", "signature", "key", "auth", "credential", "session"}

// secretNames are short names that would match too much as substrings.
var secretNames = map[string]bool{"sig": true, "pwd": true, "pw": true, "pass": true}

// secretWordBytes are secretWords for bytes.Contains.
var secretWordBytes = func() [][]byte {
	out := make([][]byte, len(secretWords))
	for i, w := range secretWords {
		out[i] = []byte(w)
	}
	return out
}()

// redacts reports whether the value of the parameter with this name is kept out of
// the journal and the logs: a secret-looking name (secretNames exactly or
// secretWords anywhere) or a personal one (personalNames), in any letter case. The
// name is lowered once, in a buffer on the stack: the journal checks every parameter
// of every call, and lowering a copy per check was a good share of a call's CPU.
func redacts(name string) bool {
	var buf [64]byte
	if len(name) > len(buf) || !isASCII(name) {
		// Unicode lowering can make ASCII of other letters (the Kelvin sign is a
		// k): the general path, rare.
		n := strings.ToLower(name)
		return secretNames[n] || personalNames[n] ||
			slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(n, w) })
	}
	b := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	// Map lookups with string(b) do not allocate.
	if secretNames[string(b)] || personalNames[string(b)] {
		return true
	}
	for _, w := range secretWordBytes {
		if bytes.Contains(b, w) {
			return true
		}
	}
	return false
}

// isASCII reports whether s is all ASCII, where letter case is simple.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// personalNames are the reserve parameters that carry a person's data. The journal
// and the logs keep the booking reference instead, which leads to the booking.
var personalNames = map[string]bool{
	"studentfirstname": true, "studentlastname": true, "studentemailaddress": true,
	"studentphonenumber": true, "studentbirthdate": true, "enrollerfirstname": true,
	"enrollerlastname": true, "enrolleremailaddress": true, "enrollerphonenumber": true,
}

const redacted = "REDACTED"

// RedactURL returns raw with the values of secret-looking query parameters
// (password, secret, token, signature, key, ...), of the parameters that carry
// a student's or enroller's personal data, and any userinfo password replaced
// by REDACTED. It is what the journal and the logs record.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactString(raw)
	}
	return redactParsed(u)
}

// redactParsed is RedactURL for a URL already parsed, which it leaves unchanged.
func redactParsed(parsed *url.URL) string {
	u := *parsed // a copy: only fields are replaced below, never what they point to
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, hasValue := strings.Cut(p, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if hasValue && redacts(name) {
				parts[i] = k + "=" + redacted
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}

// redactString handles text that does not even parse as a URL: cut it at the
// query and drop any userinfo, which is where secrets would be.
func redactString(raw string) string {
	s := raw
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i+1] + redacted
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		start := 0
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			start = i + 3
		}
		s = s[:start] + redacted + s[at:]
	}
	return s
}
