package signing_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/tpclient/signing"
)

func TestSignKnownValue(t *testing.T) {
	// A fixed vector, computed independently with
	//   printf 'GET\n/reserve\nexternalCourseClassId=CL-1&bookingReference=tp-1\n1700000000' |
	//   openssl dgst -sha256 -hmac s3cret
	ts := time.Unix(1700000000, 0)
	const query = "externalCourseClassId=CL-1&bookingReference=tp-1"
	got := signing.Sign([]byte("s3cret"), "GET", "/reserve", query, ts)
	const want = "v1=fc7361e269c7df42308f3392d994f2178bdb027bea7fd1d5f80757f141db75db"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	for name, other := range map[string]string{
		"method": signing.Sign([]byte("s3cret"), "POST", "/reserve", query, ts),
		"path":   signing.Sign([]byte("s3cret"), "GET", "/reserve2", query, ts),
		"query":  signing.Sign([]byte("s3cret"), "GET", "/reserve", query+"x", ts),
		"time":   signing.Sign([]byte("s3cret"), "GET", "/reserve", query, ts.Add(time.Second)),
		"secret": signing.Sign([]byte("other"), "GET", "/reserve", query, ts),
	} {
		if other == got {
			t.Errorf("a change of the %s did not change the signature", name)
		}
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1700000000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := signing.Sign(secret, "GET", "/r", "a=1", now)
	tests := []struct {
		name    string
		secret  []byte
		path    string
		ts, sig string
		now     time.Time
		skew    time.Duration
		want    error
	}{
		{name: "valid", secret: secret, path: "/r", ts: ts, sig: sig, now: now},
		{name: "within skew", secret: secret, path: "/r", ts: ts, sig: sig, now: now.Add(4 * time.Minute)},
		{name: "default skew", secret: secret, path: "/r", ts: ts, sig: sig, now: now.Add(-4 * time.Minute), skew: -1},
		{name: "rotated secret list", secret: secret, path: "/r", ts: ts, sig: "v1=00, " + sig, now: now},
		{name: "stale", secret: secret, path: "/r", ts: ts, sig: sig, now: now.Add(6 * time.Minute), want: signing.ErrStaleTimestamp},
		{name: "narrow window", secret: secret, path: "/r", ts: ts, sig: sig, now: now.Add(31 * time.Second), skew: 30 * time.Second, want: signing.ErrStaleTimestamp},
		{name: "from the future", secret: secret, path: "/r", ts: ts, sig: sig, now: now.Add(-6 * time.Minute), want: signing.ErrStaleTimestamp},
		{name: "bad timestamp", secret: secret, path: "/r", ts: "yesterday", sig: sig, now: now, want: signing.ErrStaleTimestamp},
		{name: "wrong secret", secret: []byte("guess"), path: "/r", ts: ts, sig: sig, now: now, want: signing.ErrBadSignature},
		{name: "other path", secret: secret, path: "/cancel", ts: ts, sig: sig, now: now, want: signing.ErrBadSignature},
		{name: "timestamp moved", secret: secret, path: "/r", ts: strconv.FormatInt(now.Unix()+1, 10), sig: sig, now: now, want: signing.ErrBadSignature},
		{name: "not hex", secret: secret, path: "/r", ts: ts, sig: "v1=zz", now: now, want: signing.ErrBadSignature},
		{name: "other version", secret: secret, path: "/r", ts: ts, sig: strings.Replace(sig, "v1=", "v2=", 1), now: now, want: signing.ErrBadSignature},
		{name: "unsigned", secret: secret, path: "/r", now: now, want: signing.ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skew := tt.skew
			if skew == 0 {
				skew = 5 * time.Minute
			}
			err := signing.Verify(tt.secret, "GET", tt.path, "a=1", tt.ts, tt.sig, tt.now, skew)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRequestRoundTrip signs a real request, with an escaped path and query, and
// verifies it on a real server.
func TestRequestRoundTrip(t *testing.T) {
	secret := []byte("shared")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := signing.VerifyRequest(r, secret, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	for _, tc := range []struct {
		secret []byte
		want   string
	}{{secret, "ok"}, {[]byte("other"), "signature does not match\n"}, {nil, "call is not signed\n"}} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/classes/Kurs%201%2F%C3%B8/reserve?externalCourseClassId=Kurs+1%2F%C3%B8&x=%26", nil)
		if tc.secret != nil {
			signing.SignRequest(req, tc.secret, time.Now())
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tc.want {
			t.Errorf("secret %q: answer %q, want %q", tc.secret, body, tc.want)
		}
	}
}

// A provider's handler checks each call from the portal before doing anything else.
func ExampleVerifyRequest() {
	secret := []byte("the secret you agreed with the portal")
	reserve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := signing.VerifyRequest(r, secret, time.Now(), signing.DefaultMaxSkew); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"successful":false,"errorMessage":%q}`, err.Error())
			return
		}
		fmt.Fprint(w, `{"successful":true,"bookingReference":"1234","errorMessage":""}`)
	})

	// What the portal sends:
	req := httptest.NewRequest(http.MethodGet, "/reserve?externalCourseClassId=OSL-W40", nil)
	signing.SignRequest(req, secret, time.Now())
	w := httptest.NewRecorder()
	reserve.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())

	// A call without a signature:
	w = httptest.NewRecorder()
	reserve.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/reserve?externalCourseClassId=OSL-W40", nil))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 {"successful":true,"bookingReference":"1234","errorMessage":""}
	// 401 {"successful":false,"errorMessage":"call is not signed"}
}
