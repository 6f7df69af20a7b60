// Package signing signs and verifies the calls Trainingportal makes to a course
// provider's reserve and cancel URLs, when the provider has a shared secret (SPEC §3).
// The portal signs with SignRequest; a provider's system checks with VerifyRequest.
//
// The signature is "v1=" followed by the hex HMAC-SHA256, keyed with the secret, of
//
//	method + "\n" + escaped path + "\n" + raw query + "\n" + Unix seconds
//
// carried in SignatureHeader, with the seconds in TimestampHeader. A provider in
// another language can check its implementation against the fixed vector in this
// package's tests.
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed call.
const (
	// TimestampHeader carries the signing time in Unix seconds.
	TimestampHeader = "X-Tportal-Timestamp"
	// SignatureHeader carries "v1=" and the hex HMAC-SHA256 (see Sign).
	SignatureHeader = "X-Tportal-Signature"
)

// DefaultMaxSkew is the clock difference Verify accepts when given none: enough for
// unsynchronised clocks, short enough to limit replays.
const DefaultMaxSkew = 5 * time.Minute

// The reasons Verify rejects a call, for errors.Is. Their messages carry no package
// prefix because a provider may answer them to the caller as they are.
var (
	ErrMissingSignature = errors.New("call is not signed")
	ErrStaleTimestamp   = errors.New("signature timestamp outside the allowed window")
	ErrBadSignature     = errors.New("signature does not match")
)

const version = "v1="

// Sign returns the SignatureHeader value for a call: "v1=" followed by the hex
// HMAC-SHA256, keyed with secret, of
//
//	method + "\n" + path + "\n" + rawQuery + "\n" + unix seconds of ts
//
// where path is the escaped path (url.URL.EscapedPath) and rawQuery the query exactly
// as sent. The timestamp is part of the MAC so an old call cannot be replayed once it
// is outside the verifier's window.
func Sign(secret []byte, method, path, rawQuery string, ts time.Time) string {
	return version + hex.EncodeToString(mac(secret, method, path, rawQuery, strconv.FormatInt(ts.Unix(), 10)))
}

func mac(secret []byte, method, path, rawQuery, ts string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(method + "\n" + path + "\n" + rawQuery + "\n" + ts))
	return m.Sum(nil)
}

// SignRequest sets the TimestampHeader and SignatureHeader of req.
func SignRequest(req *http.Request, secret []byte, ts time.Time) {
	req.Header.Set(TimestampHeader, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(SignatureHeader, Sign(secret, req.Method, req.URL.EscapedPath(), req.URL.RawQuery, ts))
}

// Verify checks a call's signature. tsHeader and sigHeader are the TimestampHeader and
// SignatureHeader values. It rejects a timestamp more than maxSkew before or after now
// (DefaultMaxSkew when maxSkew <= 0) and compares MACs in constant time. sigHeader may
// hold several comma-separated signatures, so a secret can be rotated; one matching v1
// signature suffices.
func Verify(secret []byte, method, path, rawQuery, tsHeader, sigHeader string, now time.Time, maxSkew time.Duration) error {
	if tsHeader == "" || sigHeader == "" {
		return ErrMissingSignature
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(tsHeader), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrStaleTimestamp, TimestampHeader, tsHeader)
	}
	skew := now.Sub(time.Unix(sec, 0))
	if skew > maxSkew || skew < -maxSkew {
		return fmt.Errorf("%w: timestamp is %s off, at most %s allowed", ErrStaleTimestamp, skew.Abs().Truncate(time.Second), maxSkew)
	}
	want := mac(secret, method, path, rawQuery, strconv.FormatInt(sec, 10))
	for _, s := range strings.Split(sigHeader, ",") {
		h, ok := strings.CutPrefix(strings.TrimSpace(s), version)
		if !ok {
			continue
		}
		got, err := hex.DecodeString(h)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}

// VerifyRequest is Verify for an incoming request.
func VerifyRequest(r *http.Request, secret []byte, now time.Time, maxSkew time.Duration) error {
	return Verify(secret, r.Method, r.URL.EscapedPath(), r.URL.RawQuery,
		r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), now, maxSkew)
}
