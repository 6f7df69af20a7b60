package certificate_test

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/tportal/tportal/internal/gateway/certificate"
	"github.com/tportal/tportal/internal/gateway/certificate/certtest"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	streamRE   = regexp.MustCompile(`(?s)stream\r?\n(.*?)endstream`)
	showTextRE = regexp.MustCompile(`(?s)\(((?:[^\\)]|\\.)*)\)\s*Tj`)
)

// contentText reads the text that the page's content streams show. fpdf writes text
// in an embedded UTF-8 font as UTF-16BE strings under an identity ToUnicode map, so
// inflating the streams and decoding the strings of each Tj gives the text exactly.
// (The reader library's ToUnicode decoding drops the high byte of two-byte ranges,
// so it is trusted only for Latin-1 text.)
func contentText(t *testing.T, doc []byte) string {
	t.Helper()
	var out strings.Builder
	for _, m := range streamRE.FindAllSubmatch(doc, -1) {
		zr, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue // not a Flate stream (none of ours is text)
		}
		content, err := io.ReadAll(zr)
		if err != nil {
			continue // font programs and images are not page content
		}
		for _, tj := range showTextRE.FindAllSubmatch(content, -1) {
			raw := unescapePDFString(tj[1])
			units := make([]uint16, 0, len(raw)/2)
			for i := 0; i+1 < len(raw); i += 2 {
				units = append(units, uint16(raw[i])<<8|uint16(raw[i+1]))
			}
			out.WriteString(string(utf16.Decode(units)))
			out.WriteByte('\n')
		}
	}
	return out.String()
}

// unescapePDFString undoes the backslash escapes of a PDF literal string.
func unescapePDFString(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			out = append(out, s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		default:
			if c >= '0' && c <= '7' {
				v, n := 0, 0
				for n < 3 && i < len(s) && s[i] >= '0' && s[i] <= '7' {
					v = v*8 + int(s[i]-'0')
					i++
					n++
				}
				i--
				out = append(out, byte(v))
			} else {
				out = append(out, c)
			}
		}
	}
	return out
}

func isLatin1(s string) bool {
	for _, r := range s {
		if r > 0xFF {
			return false
		}
	}
	return true
}

func TestRenderNamesStudentAndCourse(t *testing.T) {
	tests := []struct {
		name string
		d    certificate.Details
		want []string
	}{
		{
			name: "Norwegian letters",
			d: certificate.Details{
				Number: certificate.NumberFor("GW-1"), StudentName: "Øyvind Ås",
				CourseName: "Grunnleggende sikkerhetskurs", CourseID: "BST",
				ClassStart: date("2027-05-10"), ClassEnd: date("2027-05-11"),
				Place: "Oslo, Karl Johans gate 1", ProviderName: "Sjø & Sikkerhet AS",
				CompletionDate: date("2027-05-11"),
			},
			want: []string{"Øyvind Ås", "Grunnleggende sikkerhetskurs", "Sjø & Sikkerhet AS", "11 May 2027", "10 May 2027", certificate.NumberFor("GW-1"), "Oslo"},
		},
		{
			name: "Polish and Greek",
			d: certificate.Details{
				Number: "TPC-X", StudentName: "Łukasz Żółć", CourseName: "Ασφάλεια",
				ProviderName: "Nordsjø Kurs", CompletionDate: date("2027-01-02"),
			},
			want: []string{"Łukasz Żółć", "Ασφάλεια", "TPC-X", "2 January 2027"},
		},
		{
			name: "one-day class",
			d: certificate.Details{
				Number: "TPC-Y", StudentName: "Kari Nordmann", CourseName: "First Aid",
				ClassStart: date("2027-03-01"), ClassEnd: date("2027-03-01"),
				ProviderName: "Provider", CompletionDate: date("2027-03-01"),
			},
			want: []string{"Kari Nordmann", "First Aid", "1 March 2027"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := certificate.Render(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(doc, []byte("%PDF-")) {
				t.Fatalf("not a PDF: %q", doc[:min(len(doc), 16)])
			}
			text, pages := certtest.Text(t, doc), certtest.Pages(t, doc)
			if pages != 1 {
				t.Errorf("pages = %d, want 1", pages)
			}
			shown := contentText(t, doc)
			for _, w := range tt.want {
				if !strings.Contains(shown, w) {
					t.Errorf("page content lacks %q; got %q", w, shown)
				}
				if isLatin1(w) && !certtest.Contains(text, w) {
					t.Errorf("extracted text lacks %q; got %q", w, text)
				}
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	d := certificate.Details{Number: "TPC-1", StudentName: "A B", CourseName: "C", ProviderName: "P", CompletionDate: date("2027-05-11")}
	a, err := certificate.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := certificate.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two renders of the same details differ; a retried upload would be a different document")
	}
}

func TestRenderRefusesMissingDetails(t *testing.T) {
	tests := []struct {
		name string
		d    certificate.Details
		want string
	}{
		{"no student", certificate.Details{Number: "N", CourseName: "C", ProviderName: "P", CompletionDate: date("2027-01-01")}, "student name"},
		{"blank course", certificate.Details{Number: "N", StudentName: "S", CourseName: "  ", ProviderName: "P", CompletionDate: date("2027-01-01")}, "course name"},
		{"no date", certificate.Details{Number: "N", StudentName: "S", CourseName: "C", ProviderName: "P"}, "completion date"},
		{"no number", certificate.Details{StudentName: "S", CourseName: "C", ProviderName: "P", CompletionDate: date("2027-01-01")}, "certificate number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := certificate.Render(tt.d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestNumberForIsStableAndDistinct(t *testing.T) {
	seen := map[string]string{}
	for i := range 10000 {
		ref := "GW-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String()
		n := certificate.NumberFor(ref)
		if n != certificate.NumberFor(ref) {
			t.Fatalf("NumberFor(%q) not stable", ref)
		}
		if other, dup := seen[n]; dup && other != ref {
			t.Fatalf("%q and %q share number %s", ref, other, n)
		}
		seen[n] = ref
	}
	if got := certificate.NumberFor("GW-1"); !strings.HasPrefix(got, "TPC-") || len(got) != 20 {
		t.Errorf("NumberFor = %q, want TPC- and 16 characters", got)
	}
}

func BenchmarkRender(b *testing.B) {
	d := certificate.Details{Number: "TPC-1", StudentName: "Øyvind Ås", CourseName: "Basic Safety Training", ProviderName: "P", CompletionDate: date("2027-05-11")}
	for b.Loop() {
		if _, err := certificate.Render(d); err != nil {
			b.Fatal(err)
		}
	}
}
