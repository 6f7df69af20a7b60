package providercall

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseReserveAnswer(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    ReserveAnswer
		wantErr string // substring; "" means no error
	}{
		{name: "seed example", body: `{"successful":"true","bookingReference":"1234","errorMessage":""}`,
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "1234"}},
		{name: "json booleans", body: `{"successful":true,"bookingReference":"A-1"}`,
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "A-1"}},
		{name: "numeric reference and 1", body: ` {"successful":1,"bookingReference":1234}`,
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "1234"}},
		{name: "docs misspelling", body: `{"sucessful":"TRUE","bookingReference":"x"}`,
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "x"}},
		{name: "upper case keys", body: `{"SUCCESSFUL":"yes","BookingReference":"x","ERRORMESSAGE":"none"}`,
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "x", ErrorMessage: "none"}},
		{name: "seed's errorMesssage", body: `{"successful":"false","errorMesssage":"Class is full"}`,
			want: ReserveAnswer{ErrorMessage: "Class is full"}},
		{name: "null reference on failure", body: `{"successful":false,"bookingReference":null,"errorMessage":"Sold out"}`,
			want: ReserveAnswer{ErrorMessage: "Sold out"}},
		{name: "unknown fields ignored", body: `{"status":{"a":[1,2]},"successful":"0","extra":null}`,
			want: ReserveAnswer{}},
		{name: "byte order mark", body: "\ufeff{\"successful\":\"1\",\"bookingReference\":\"b\"}",
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "b"}},
		{name: "same value twice", body: `{"successful":true,"Successful":"true","bookingReference":"r"}`,
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "r"}},
		{name: "xml", body: `<?xml version="1.0" encoding="UTF-8"?>
<reservation xmlns="urn:x"><successful>true</successful><bookingReference> 99 </bookingReference><errorMessage/></reservation>`,
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "99"}},
		{name: "xml any root, odd case, typo", body: `<Response><SUCESSFUL>false</SUCESSFUL><ErrorMesssage>Kurset er fullt</ErrorMesssage><ignored><a>1</a></ignored></Response>`,
			want: ReserveAnswer{ErrorMessage: "Kurset er fullt"}},
		{name: "xml attributes", body: `<result successful="1" bookingReference="R7"/>`,
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "R7"}},
		{name: "xml latin1", body: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r><successful>no</successful><errorMessage>Kurs p\xe5 Bj\xf8rnstad</errorMessage></r>",
			want: ReserveAnswer{ErrorMessage: "Kurs på Bjørnstad"}},
		{name: "xml windows-1252", body: "<?xml version=\"1.0\" encoding=\"windows-1252\"?><r><successful>no</successful><errorMessage>\x93full\x94</errorMessage></r>",
			want: ReserveAnswer{ErrorMessage: "“full”"}},
		{name: "xml html entity", body: `<r><successful>false</successful><errorMessage>a&nbsp;b</errorMessage></r>`,
			want: ReserveAnswer{ErrorMessage: "a\u00a0b"}},

		{name: "empty", body: "", wantErr: "answer is empty"},
		{name: "blank", body: " \r\n\t", wantErr: "answer is empty"},
		{name: "html doctype", body: "<!DOCTYPE html><html><body>Login</body></html>", wantErr: "HTML, not JSON or XML"},
		{name: "html tag", body: "\n<HTML><head><title>502</title></head></HTML>", wantErr: "HTML, not JSON or XML"},
		{name: "xhtml", body: `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`, wantErr: "HTML"},
		{name: "plain text", body: "OK", wantErr: `neither JSON nor XML (it starts with "OK")`},
		{name: "json array", body: `[{"successful":true}]`, wantErr: "neither JSON nor XML"},
		{name: "broken json", body: `{"successful":tru`, wantErr: "not valid JSON"},
		{name: "trailing garbage", body: `{"successful":false} and more`, wantErr: "more after its JSON object"},
		{name: "broken xml", body: `<r><successful>true</r>`, wantErr: "not valid XML"},
		{name: "no successful", body: `{"bookingReference":"1"}`, wantErr: "no successful field"},
		{name: "maybe", body: `{"successful":"maybe","bookingReference":"1"}`, wantErr: `successful "maybe", which is neither true nor false`},
		{name: "empty boolean", body: `<r><successful/></r>`, wantErr: "neither true nor false"},
		{name: "number 2", body: `{"successful":2,"bookingReference":"1"}`, wantErr: "neither true nor false"},
		{name: "conflict", body: `{"successful":true,"sucessful":false,"bookingReference":"1"}`, wantErr: "conflicting values for successful"},
		{name: "object value", body: `{"successful":{"value":true}}`, wantErr: "successful that is not a plain value"},
		{name: "successful without reference", body: `{"successful":"true","bookingReference":"","errorMessage":""}`,
			wantErr: "provider said successful but gave no bookingReference"},
		{name: "successful with blank reference", body: `<r><successful>1</successful><bookingReference>  </bookingReference></r>`,
			wantErr: "provider said successful but gave no bookingReference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReserveAnswer([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "providercall: ") {
					t.Errorf("err = %q, want the package prefix", err)
				}
				if got.Successful {
					t.Errorf("answer with an error is successful: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseCancelAnswer(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    CancelAnswer
		wantErr string
	}{
		{name: "seed example", body: `{ "cancelled" : "true" , "errorMessage" : "" }`, want: CancelAnswer{Cancelled: true}},
		{name: "american spelling", body: `{"Canceled":1}`, want: CancelAnswer{Cancelled: true}},
		{name: "refused", body: `{"cancelled":false,"errorMesssage":"Too late to cancel"}`,
			want: CancelAnswer{ErrorMessage: "Too late to cancel"}},
		{name: "xml", body: `<cancellation><CANCELLED>TRUE</CANCELLED></cancellation>`, want: CancelAnswer{Cancelled: true}},
		{name: "no field", body: `{"successful":true}`, wantErr: "no cancelled field"},
		{name: "html", body: `<html></html>`, wantErr: "HTML"},
		{name: "empty", body: ``, wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCancelAnswer([]byte(tt.body))
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
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// fuzzSeeds are real-looking answers, good and bad, for both fuzzers.
var fuzzSeeds = []string{
	`{"successful":"true","bookingReference":"1234","errorMessage":""}`,
	`{ "cancelled" : "true" , "errorMessage" : "" }`,
	`{"successful":false,"bookingReference":null,"errorMesssage":"Class is full"}`,
	`{"sucessful":1,"BookingReference":1234}`,
	`{"SUCCESSFUL":"TRUE","bookingReference":"","canceled":"no"}`,
	`{"successful":true,"sucessful":false}`,
	`<?xml version="1.0" encoding="UTF-8"?><reservation><successful>true</successful><bookingReference>99</bookingReference></reservation>`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><r><successful>no</successful><errorMessage>Bj` + "\xf8" + `rn</errorMessage></r>`,
	`<result successful="1" bookingReference="R7" cancelled="yes"/>`,
	`<r><cancelled>false</cancelled><ErrorMesssage>Too late</ErrorMesssage></r>`,
	`<r><bookingReference><x/></bookingReference></r>`,
	`<!DOCTYPE html><html><body>Login</body></html>`,
	`<html>`,
	``,
	`   `,
	`OK`,
	`{`,
	`<`,
	"\ufeff{}",
	`{"successful":"maybe"}`,
	`[1,2,3]`,
}

func FuzzParseReserveAnswer(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseReserveAnswer(body)
		if err != nil {
			var ae *AnswerError
			if !errors.As(err, &ae) || ae.Reason == "" {
				t.Fatalf("error %v is not an *AnswerError with a reason", err)
			}
			if a.Successful {
				t.Fatalf("failed parse returned a successful answer: %+v", a)
			}
			return
		}
		if a.Successful && a.ProviderBookingReference == "" {
			t.Fatalf("successful answer without a reference: %+v", a)
		}
		if a.ProviderBookingReference != strings.TrimSpace(a.ProviderBookingReference) {
			t.Fatalf("reference not trimmed: %q", a.ProviderBookingReference)
		}
		// A readable answer survives a round trip through canonical JSON.
		if utf8.ValidString(a.ProviderBookingReference) && utf8.ValidString(a.ErrorMessage) {
			canon, _ := json.Marshal(map[string]any{
				"successful": a.Successful, "bookingReference": a.ProviderBookingReference, "errorMessage": a.ErrorMessage,
			})
			b, err := ParseReserveAnswer(canon)
			if err != nil || b != a {
				t.Fatalf("round trip of %+v via %s gave %+v, %v", a, canon, b, err)
			}
		}
	})
}

func FuzzParseCancelAnswer(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseCancelAnswer(body)
		if err != nil {
			var ae *AnswerError
			if !errors.As(err, &ae) || ae.Reason == "" {
				t.Fatalf("error %v is not an *AnswerError with a reason", err)
			}
			if a.Cancelled {
				t.Fatalf("failed parse returned a cancelled answer: %+v", a)
			}
			return
		}
		if a.ErrorMessage != strings.TrimSpace(a.ErrorMessage) {
			t.Fatalf("message not trimmed: %q", a.ErrorMessage)
		}
		if utf8.ValidString(a.ErrorMessage) {
			canon, _ := json.Marshal(map[string]any{"cancelled": a.Cancelled, "errorMessage": a.ErrorMessage})
			b, err := ParseCancelAnswer(canon)
			if err != nil || b != a {
				t.Fatalf("round trip of %+v via %s gave %+v, %v", a, canon, b, err)
			}
		}
	})
}

func BenchmarkParseReserveAnswer(b *testing.B) {
	bodies := map[string]string{
		"json": `{"successful":"true","bookingReference":"1234","errorMessage":""}`,
		"xml":  `<?xml version="1.0" encoding="UTF-8"?><reservation><successful>true</successful><bookingReference>1234</bookingReference><errorMessage/></reservation>`,
	}
	for _, name := range []string{"json", "xml"} {
		body := []byte(bodies[name])
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := ParseReserveAnswer(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
