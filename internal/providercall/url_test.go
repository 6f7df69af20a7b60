package providercall

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestExpandURL(t *testing.T) {
	full := reserveParams(ReserveRequest{
		ExternalCourseClassID: "C 1&2/ø",
		ExternalCourseID:      "BST",
		BookingReference:      "tp-123",
		Student:               Person{FirstName: "Åse Marie", LastName: "O'Brien", Email: "ase+1@example.no"},
		Company:               "Bygg & Anlegg AS",
	})
	tests := []struct {
		name     string
		template string
		params   []Param
		want     string
		wantErr  string
	}{
		{name: "plain URL gets every non-empty parameter in order",
			template: "https://p.example/reserve", params: full,
			want: "https://p.example/reserve?externalCourseClassId=C+1%262%2F%C3%B8&externalCourseId=BST&trainingportalBookingReference=tp-123" +
				"&studentFirstName=%C3%85se+Marie&studentLastName=O%27Brien&studentEmailAddress=ase%2B1%40example.no" +
				"&company=Bygg+%26+Anlegg+AS"},
		{name: "placeholder in the path is path-escaped and not repeated",
			template: "https://p.example/classes/{externalCourseClassId}/reserve", params: full[:3],
			want: "https://p.example/classes/C%201&2%2F%C3%B8/reserve?externalCourseId=BST&trainingportalBookingReference=tp-123"},
		{name: "every reserve parameter name is a placeholder",
			template: "https://p.example/courses/{externalCourseId}/classes/{externalCourseClassId}/book/{trainingportalBookingReference}", params: full[:4],
			want: "https://p.example/courses/BST/classes/C%201&2%2F%C3%B8/book/tp-123?studentFirstName=%C3%85se+Marie"},
		{name: "reserve {bookingReference} is the portal's reference, as in templates registered before the rename",
			template: "https://p.example/reserve/{bookingReference}", params: full[:3],
			want: "https://p.example/reserve/tp-123?externalCourseClassId=C+1%262%2F%C3%B8&externalCourseId=BST"},
		{name: "placeholder in the query is query-escaped, own query kept",
			template: "https://p.example/r?api=v2&class={externalCourseClassId}&x=a%20b", params: full[:3],
			want: "https://p.example/r?api=v2&class=C+1%262%2F%C3%B8&x=a%20b&externalCourseId=BST&trainingportalBookingReference=tp-123"},
		{name: "placeholder names in any case",
			template: "https://p.example/r/{EXTERNALCOURSECLASSID}", params: full[:1],
			want: "https://p.example/r/C%201&2%2F%C3%B8"},
		{name: "alias places the parameter",
			template: "https://p.example/bookings/{providerBookingReference}/cancel",
			params:   cancelParams(CancelRequest{ProviderBookingReference: "P 9", BookingReference: "tp-1"}),
			want:     "https://p.example/bookings/P%209/cancel?trainingportalBookingReference=tp-1"},
		{name: "cancel {enrollmentReference} is the provider's reference (the seed's word)",
			template: "https://p.example/cancel/{enrollmentReference}",
			params:   cancelParams(CancelRequest{ProviderBookingReference: "1234", BookingReference: "tp-1"}),
			want:     "https://p.example/cancel/1234?trainingportalBookingReference=tp-1"},
		{name: "cancel {bookingReference} is the provider's reference, {trainingportalBookingReference} the portal's",
			template: "https://p.example/c/{bookingReference}?tp={trainingportalBookingReference}",
			params:   cancelParams(CancelRequest{ProviderBookingReference: "1234", BookingReference: "tp-1"}),
			want:     "https://p.example/c/1234?tp=tp-1"},
		{name: "cancel without provider reference skips it",
			template: "https://p.example/cancel",
			params:   cancelParams(CancelRequest{BookingReference: "tp-1"}),
			want:     "https://p.example/cancel?trainingportalBookingReference=tp-1"},
		{name: "empty value in the query placeholder is allowed",
			template: "https://p.example/r?phone={studentPhoneNumber}", params: full,
			want: "https://p.example/r?phone=&externalCourseClassId=C+1%262%2F%C3%B8&externalCourseId=BST&trainingportalBookingReference=tp-123" +
				"&studentFirstName=%C3%85se+Marie&studentLastName=O%27Brien&studentEmailAddress=ase%2B1%40example.no" +
				"&company=Bygg+%26+Anlegg+AS"},
		{name: "template's own parameter of the same name wins",
			template: "https://p.example/r?trainingportalBookingReference=fixed", params: full[:3],
			want: "https://p.example/r?trainingportalBookingReference=fixed&externalCourseClassId=C+1%262%2F%C3%B8&externalCourseId=BST"},
		{name: "no params, no question mark",
			template: "https://p.example/r", params: nil, want: "https://p.example/r"},
		{name: "lone braces are not placeholders",
			template: "https://p.example/r/{a-b}", params: nil, want: "https://p.example/r/%7Ba-b%7D"},

		{name: "unknown placeholder", template: "https://p.example/{nope}", params: full, wantErr: "unknown placeholder {nope}"},
		{name: "placeholder in host", template: "https://{company}.p.example/r", params: full,
			wantErr: "placeholder {company} is not allowed in the scheme or host"},
		{name: "empty placeholder in path", template: "https://p.example/c/{studentPhoneNumber}/r", params: full,
			wantErr: "placeholder {studentPhoneNumber} in the path"},
		{name: "unparseable", template: "https://p.example:port/r", params: nil, wantErr: "invalid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandURL(tt.template, tt.params)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://p.example/r?a=1&b=2", "https://p.example/r?a=1&b=2"},
		{"https://p.example/r?apiKey=s3cret&bookingReference=tp-1", "https://p.example/r?apiKey=REDACTED&bookingReference=tp-1"},
		{"https://p.example/r?Password=x&TOKEN=y&sig=z&client_secret=w&signature=v",
			"https://p.example/r?Password=REDACTED&TOKEN=REDACTED&sig=REDACTED&client_secret=REDACTED&signature=REDACTED"},
		{"https://user:s3cret@p.example/r", "https://user:REDACTED@p.example/r"},
		{"https://user@p.example/r", "https://user@p.example/r"},
		{"https://p.example/r?api%5Fkey=s3cret", "https://p.example/r?api%5Fkey=REDACTED"},
		{"https://p.example/r?externalCourseClassId=W1&bookingReference=tp-1&studentFirstName=Kari&studentEmailAddress=k%40x.no&enrollerPhoneNumber=123&company=Acme",
			"https://p.example/r?externalCourseClassId=W1&bookingReference=tp-1&studentFirstName=REDACTED&studentEmailAddress=REDACTED&enrollerPhoneNumber=REDACTED&company=Acme"},
		{"https://user:s3cret@p.example:bad/r?token=x", "https://REDACTED@p.example:bad/r?REDACTED"},
	}
	for _, tt := range tests {
		got := RedactURL(tt.in)
		if got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("RedactURL(%q) leaks the secret", tt.in)
		}
	}
}

// TestJournalURLFromExpandedURL: a call journals and checks the URL as expand parsed
// it, without parsing its text again; the text journaled must be what redacting that
// text gives, byte for byte, an empty port ("h:") and escapes included.
func TestJournalURLFromExpandedURL(t *testing.T) {
	params := reserveParams(ReserveRequest{
		ExternalCourseClassID: "C 1&2/ø", ExternalCourseID: "BST", BookingReference: "tp-1",
		Student: Person{FirstName: "Kari", Email: "k@x.no"}, Company: "Bygg & Anlegg AS",
	})
	for _, tmpl := range []string{
		"https://p.example/reserve",
		"http://h:/x",
		"http://h:/x?token=1",
		"https://user:s3cret@p.example/r?apiKey=k&a=1",
		"https://user@p.example:8443/r/{externalCourseClassId}?x=%2F#frag",
		"https://p.example/a%2Fb/{externalCourseClassId}?",
		"https://[::1]:80/r?q={company}",
		"https://p.example/r?apiKey=1&apiKey=2&company=own",
		"http:opaque?x=1",
		"/relative/{externalCourseClassId}",
	} {
		u, err := expand(tmpl, params, true)
		if err != nil {
			t.Errorf("expand(%q): %v", tmpl, err)
			continue
		}
		raw := u.String()
		if got, want := redactParsed(u), RedactURL(raw); got != want {
			t.Errorf("%q: journaled %q, want %q", tmpl, got, want)
		}
		if u.String() != raw {
			t.Errorf("%q: redacting changed the URL to %q", tmpl, u.String())
		}
		again, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(checkTarget(u, false)), fmt.Sprint(checkTarget(again, false)); got != want {
			t.Errorf("%q: the guard says %s, want %s", tmpl, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	const allowHint = "(start with --allow-private-urls to allow)"
	tests := []struct {
		url          string
		allowPrivate bool
		wantErr      string
	}{
		{url: "https://booking.example.no/reserve?class={externalCourseClassId}"},
		{url: "http://93.184.216.34/cancel/{providerBookingReference}"},
		{url: "https://[2606:4700::6810:84e5]/r"},
		{url: "http://127.0.0.1:8081/r", wantErr: "address 127.0.0.1 is loopback; refused " + allowHint},
		{url: "http://127.0.0.1:8081/r", allowPrivate: true},
		{url: "http://localhost:8081/r", wantErr: "is loopback; refused"},
		{url: "http://localhost:8081/r", allowPrivate: true},
		{url: "http://10.0.0.1/r", wantErr: "address 10.0.0.1 is private; refused " + allowHint},
		{url: "http://10.0.0.1/r", allowPrivate: true},
		{url: "http://172.16.5.4/r", wantErr: "is private"},
		{url: "http://192.168.1.1/r", wantErr: "is private"},
		{url: "http://169.254.169.254/latest/meta-data/", wantErr: "address 169.254.169.254 is a cloud metadata address; refused"},
		{url: "http://169.254.169.254/latest/meta-data/", allowPrivate: true},
		{url: "http://169.254.1.1/", wantErr: "is link-local"},
		{url: "http://[::1]:8080/r", wantErr: "address ::1 is loopback; refused"},
		{url: "http://[::ffff:10.1.2.3]/r", wantErr: "address 10.1.2.3 is private"},
		{url: "http://[fd00:ec2::254]/", wantErr: "cloud metadata"},
		{url: "http://[fc00::1]/", wantErr: "is private"},
		{url: "http://[fe80::1%25eth0]/", wantErr: "is link-local"},
		{url: "http://0.0.0.0/", wantErr: "is unspecified"},
		{url: "http://100.64.1.1/", wantErr: "shared (CGNAT)"},
		{url: "http://239.1.2.3/", wantErr: "is multicast"},
		{url: "http://255.255.255.255/", wantErr: "is reserved"},
		{url: "http://[64:ff9b::a00:1]/", wantErr: "address 64:ff9b::a00:1 is private (behind NAT64)"},
		{url: "http://[2002:7f00:1::]/", wantErr: "is loopback (behind 6to4)"},
		{url: "ftp://p.example/r", wantErr: `scheme "ftp" is not allowed`},
		{url: "file:///etc/passwd", wantErr: `scheme "file" is not allowed`},
		{url: "javascript:alert(1)", wantErr: "not allowed"},
		{url: "/relative/path", wantErr: "not absolute"},
		{url: "https:///nohost", wantErr: "has no host"},
		{url: "", wantErr: "URL is empty"},
		{url: "https://p.example/{bogus}", wantErr: "unknown placeholder {bogus}"},
		{url: "https://{company}.p.example/", wantErr: "not allowed in the scheme or host"},
	}
	for _, tt := range tests {
		err := CheckURL(tt.url, tt.allowPrivate)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("CheckURL(%q, %v) = %v, want nil", tt.url, tt.allowPrivate, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("CheckURL(%q, %v) = %v, want it to contain %q", tt.url, tt.allowPrivate, err, tt.wantErr)
		}
	}
}

func TestCheckTemplate(t *testing.T) {
	tests := []struct {
		kind    Kind
		url     string
		wantErr string // "" for accepted
	}{
		{KindCancel, "https://p.example/b/{providerBookingReference}", ""},
		{KindCancel, "https://p.example/b/{enrollmentReference}", ""},
		{KindCancel, "https://p.example/b/{bookingReference}?tp={trainingportalBookingReference}", ""},
		{KindCancel, "https://p.example/b/{externalCourseClassId}", "unknown placeholder {externalCourseClassId}"},
		{KindReserve, "https://p.example/b/{providerBookingReference}", "unknown placeholder {providerBookingReference}"},
		{KindReserve, "https://p.example/b/{enrollmentReference}", "unknown placeholder {enrollmentReference}"},
		{KindReserve, "https://p.example/c/{externalCourseClassId}?who={studentEmailAddress}", ""},
		{KindReserve, "https://p.example/{externalCourseId}/{externalCourseClassId}/{trainingportalBookingReference}", ""},
		{KindReserve, "https://p.example/r?company={company}&born={studentBirthDate}&p={enrollerPhoneNumber}", ""},
		{"book", "https://p.example/", "kind"},
	}
	for _, tt := range tests {
		err := CheckTemplate(tt.kind, tt.url, false)
		if tt.wantErr == "" && err != nil {
			t.Errorf("CheckTemplate(%s, %q) = %v, want accepted", tt.kind, tt.url, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckTemplate(%s, %q) = %v, want an error containing %q", tt.kind, tt.url, err, tt.wantErr)
		}
	}
}

func TestDialControl(t *testing.T) {
	// The dial-time hook sees resolved addresses, so this is what stops a
	// host name that resolves (or rebinds) to a private address.
	tests := []struct {
		addr    string
		allow   bool
		wantErr string
	}{
		{addr: "127.0.0.1:80", wantErr: "address 127.0.0.1 is loopback"},
		{addr: "[::1]:443", wantErr: "address ::1 is loopback"},
		{addr: "10.9.8.7:80", wantErr: "is private"},
		{addr: "169.254.169.254:80", wantErr: "cloud metadata"},
		{addr: "[::ffff:169.254.169.254]:80", wantErr: "address 169.254.169.254 is a cloud metadata address"},
		{addr: "127.0.0.1:80", allow: true},
		{addr: "93.184.216.34:443"},
		{addr: "[2606:2800:220:1:248:1893:25c8:1946]:443"},
	}
	for _, tt := range tests {
		err := dialControl(tt.allow)("tcp", tt.addr, nil)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("dial %s (allow %v) = %v, want nil", tt.addr, tt.allow, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("dial %s = %v, want it to contain %q", tt.addr, err, tt.wantErr)
		}
	}
}

func TestRefusedRangeCoversPublicAddresses(t *testing.T) {
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.0", "2001:4860:4860::8888", "64:ff9b::808:808"} {
		if r := refusedRange(netip.MustParseAddr(s)); r != "" {
			t.Errorf("%s refused as %s", s, r)
		}
	}
}

func TestReason(t *testing.T) {
	err := CheckURL("http://10.0.0.1/", false)
	if got := Reason(err); got != "address 10.0.0.1 is private; refused (start with --allow-private-urls to allow)" {
		t.Errorf("Reason(CheckURL) = %q", got)
	}
	if got := Reason(CheckURL("ftp://x/", false)); got != `URL scheme "ftp" is not allowed; only http and https` {
		t.Errorf("Reason(scheme) = %q", got)
	}
	if got := Reason(&CallError{Kind: KindCancel, Reason: "no answer within 10s"}); got != "no answer within 10s" {
		t.Errorf("Reason(CallError) = %q", got)
	}
}

// TestRedactedNamesAnyCase pins the journal's secret and personal parameter names,
// lowered on the stack, to the rule as first written: the name lowered
// (Unicode), then a short secret name or a personal name exactly, or a secret word
// anywhere.
func TestRedactedNamesAnyCase(t *testing.T) {
	want := func(name string) bool {
		n := strings.ToLower(name)
		if secretNames[n] || personalNames[n] {
			return true
		}
		for _, w := range secretWords {
			if strings.Contains(n, w) {
				return true
			}
		}
		return false
	}
	names := []string{"", "sig", "SIG", "Sig", "sigs", "pw", "PW", "pwd", "pass", "Pass", "passes", "apiKey", "API_KEY",
		"monkey", "KEYS", "k", "ke", "xToken", "TOKEN", "tok", "SessionId", "Authorization", "x-auth", "credentials",
		"Password1", "passWD", "signatureV2", "secrets", "studentFirstName", "STUDENTEMAILADDRESS", "studentEmail",
		"enrollerPhoneNumber", "enrollerphonenumberx", "studentBirthDate", "externalCourseClassId", "bookingReference",
		"\u212Aey", "api\u212Aey", "to\u212Aen", "\u212Aeys", "ſig", "paſſ", "STUDENT\u212A", "ÅseKey", "åse",
		strings.Repeat("a", 64) + "key", strings.Repeat("A", 63) + "KEY", strings.Repeat("x", 70),
		"student" + strings.Repeat("first", 12) + "name"}
	for _, name := range names {
		if got := redacts(name); got != want(name) {
			t.Errorf("%q: redacted %v, want %v", name, got, want(name))
		}
	}
}
