package providercall

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tportal/tportal/tpclient/signing"
)

// The signing of calls lives in the public package tpclient/signing, so that the
// provider gateway and providers' own Go code verify with the very code the portal
// signs with. These names delegate to it.

// The headers of a signed call.
const (
	// TimestampHeader carries the signing time in Unix seconds.
	TimestampHeader = signing.TimestampHeader
	// SignatureHeader carries "v1=" and the hex HMAC-SHA256 (see Sign).
	SignatureHeader = signing.SignatureHeader
)

// DefaultMaxSkew is the clock difference Verify accepts when given none.
const DefaultMaxSkew = signing.DefaultMaxSkew

// The reasons Verify rejects a call, for errors.Is.
var (
	ErrMissingSignature = signing.ErrMissingSignature
	ErrStaleTimestamp   = signing.ErrStaleTimestamp
	ErrBadSignature     = signing.ErrBadSignature
)

// Sign is signing.Sign: the SignatureHeader value for a call.
func Sign(secret []byte, method, path, rawQuery string, ts time.Time) string {
	return signing.Sign(secret, method, path, rawQuery, ts)
}

// SignRequest sets the TimestampHeader and SignatureHeader of req.
func SignRequest(req *http.Request, secret []byte, ts time.Time) {
	signing.SignRequest(req, secret, ts)
}

// Verify is signing.Verify, its error prefixed with this package's name.
func Verify(secret []byte, method, path, rawQuery, tsHeader, sigHeader string, now time.Time, maxSkew time.Duration) error {
	return prefixed(signing.Verify(secret, method, path, rawQuery, tsHeader, sigHeader, now, maxSkew))
}

// VerifyRequest is Verify for an incoming request.
func VerifyRequest(r *http.Request, secret []byte, now time.Time, maxSkew time.Duration) error {
	return prefixed(signing.VerifyRequest(r, secret, now, maxSkew))
}

func prefixed(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("providercall: %w", err)
}
