package providercall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignKnownValue(t *testing.T) {
	// A fixed vector, computed independently with
	//   printf 'GET\n/reserve\nexternalCourseClassId=CL-1&bookingReference=tp-1\n1700000000' |
	//   openssl dgst -sha256 -hmac s3cret
	// so a provider in another language can check its implementation.
	ts := time.Unix(1700000000, 0)
	got := Sign([]byte("s3cret"), "GET", "/reserve", "externalCourseClassId=CL-1&bookingReference=tp-1", ts)
	const want = "v1=fc7361e269c7df42308f3392d994f2178bdb027bea7fd1d5f80757f141db75db"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	for _, other := range []string{
		Sign([]byte("s3cret"), "POST", "/reserve", "externalCourseClassId=CL-1&bookingReference=tp-1", ts),
		Sign([]byte("s3cret"), "GET", "/reserve2", "externalCourseClassId=CL-1&bookingReference=tp-1", ts),
		Sign([]byte("s3cret"), "GET", "/reserve", "externalCourseClassId=CL-2&bookingReference=tp-1", ts),
		Sign([]byte("s3cret"), "GET", "/reserve", "externalCourseClassId=CL-1&bookingReference=tp-1", ts.Add(time.Second)),
		Sign([]byte("other"), "GET", "/reserve", "externalCourseClassId=CL-1&bookingReference=tp-1", ts),
	} {
		if other == got {
			t.Error("a change in the call did not change the signature")
		}
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1700000000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := Sign(secret, "GET", "/r", "a=1", now)
	tests := []struct {
		name    string
		secret  []byte
		path    string
		ts, sig string
		now     time.Time
		want    error
	}{
		{name: "valid", secret: secret, path: "/r", ts: ts, sig: sig, now: now},
		{name: "within skew", secret: secret, path: "/r", ts: ts, sig: sig, now: now.Add(4 * time.Minute)},
		{name: "rotated secret list", secret: secret, path: "/r", ts: ts, sig: "v1=00, " + sig, now: now},
		{name: "stale", secret: secret, path: "/r", ts: ts, sig: sig, now: now.Add(6 * time.Minute), want: ErrStaleTimestamp},
		{name: "from the future", secret: secret, path: "/r", ts: ts, sig: sig, now: now.Add(-6 * time.Minute), want: ErrStaleTimestamp},
		{name: "bad timestamp", secret: secret, path: "/r", ts: "yesterday", sig: sig, now: now, want: ErrStaleTimestamp},
		{name: "wrong secret", secret: []byte("guess"), path: "/r", ts: ts, sig: sig, now: now, want: ErrBadSignature},
		{name: "other path", secret: secret, path: "/cancel", ts: ts, sig: sig, now: now, want: ErrBadSignature},
		{name: "timestamp moved", secret: secret, path: "/r", ts: strconv.FormatInt(now.Unix()+1, 10), sig: sig, now: now, want: ErrBadSignature},
		{name: "not hex", secret: secret, path: "/r", ts: ts, sig: "v1=zz", now: now, want: ErrBadSignature},
		{name: "other version", secret: secret, path: "/r", ts: ts, sig: strings.Replace(sig, "v1=", "v2=", 1), now: now, want: ErrBadSignature},
		{name: "unsigned", secret: secret, path: "/r", now: now, want: ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, "GET", tt.path, "a=1", tt.ts, tt.sig, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// signedProvider is a provider that checks signatures with VerifyRequest, as
// the provider gateway does, and refuses unsigned or badly signed calls.
func signedProvider(t *testing.T, secret []byte) string {
	return provider(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := VerifyRequest(r, secret, time.Now(), time.Minute); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"successful":false,"errorMessage":%q}`, err.Error())
			return
		}
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/reserve?"+r.URL.RawQuery, http.StatusSeeOther)
			return
		}
		io.WriteString(w, `{"successful":true,"bookingReference":"signed-ok"}`)
	}))
}

func TestSignedCalls(t *testing.T) {
	secret := []byte("shared secret")
	base := signedProvider(t, secret)
	tests := []struct {
		name    string
		url     string
		secret  []byte
		clock   func() time.Time
		wantErr string
	}{
		{name: "valid", url: base + "/reserve", secret: secret},
		{name: "valid through a redirect", url: base + "/moved", secret: secret},
		{name: "template with encoded path", url: base + "/c/{externalCourseClassId}", secret: secret},
		{name: "wrong secret", url: base + "/reserve", secret: []byte("not it"), wantErr: "HTTP 401 Unauthorized: \"providercall: signature does not match\""},
		{name: "stale timestamp", url: base + "/reserve", secret: secret,
			clock: func() time.Time { return time.Now().Add(-10 * time.Minute) }, wantErr: "signature timestamp outside the allowed window"},
		{name: "unsigned", url: base + "/reserve", wantErr: "call is not signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &memJournal{}
			c := testClient(j, Options{Now: tt.clock})
			r := testReserve
			r.ExternalCourseClassID = "Kurs 1/ø&x"
			got, err := c.Reserve(context.Background(), Target{ReserveURL: tt.url, Secret: tt.secret}, r)
			call := j.only(t)
			if tt.wantErr == "" {
				if err != nil || got.ProviderBookingReference != "signed-ok" || !call.Success {
					t.Fatalf("got %+v, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || call.HTTPStatus != http.StatusUnauthorized {
				t.Fatalf("err = %v (journal %+v), want %q", err, call, tt.wantErr)
			}
		})
	}
}
