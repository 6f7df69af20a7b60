package tpclient

import (
	"fmt"
	"net/http"
	"time"
)

// The sentinel errors an [*APIError] matches with errors.Is, one per kind of refusal.
var (
	ErrBadRequest   = sentinel("bad request")       // 400: invalid input
	ErrUnauthorized = sentinel("unauthorized")      // 401: wrong username or password
	ErrForbidden    = sentinel("forbidden")         // 403: another provider's course, class or booking
	ErrNotFound     = sentinel("not found")         // 404
	ErrConflict     = sentinel("conflict")          // 409: e.g. the class exists, or is cancelled
	ErrGone         = sentinel("gone")              // 410: the booking was rejected or abandoned
	ErrTooLarge     = sentinel("too large")         // 413
	ErrRateLimited  = sentinel("rate limited")      // 429
	ErrServer       = sentinel("server error")      // 5xx
	ErrUnsuccessful = sentinel("unsuccessful")      // a 2xx status message with successful=false
	ErrUnexpected   = sentinel("unexpected answer") // any other status, or an unreadable answer
)

type sentinelError string

func (e sentinelError) Error() string { return "tpclient: " + string(e) }

func sentinel(s string) error { return sentinelError(s) }

// APIError is an answer that refuses the call.
type APIError struct {
	Method     string        // the API method, such as "addClass"
	StatusCode int           // the HTTP status
	Message    string        // the server's errorMessage, or the status text when it gave none
	RetryAfter time.Duration // the server's Retry-After, 0 when absent
}

// Error describes the refusal; it never contains credentials.
func (e *APIError) Error() string {
	return fmt.Sprintf("tpclient: %s: %d %s: %s", e.Method, e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Is reports whether target is the sentinel error of e's status.
func (e *APIError) Is(target error) bool {
	return target == e.kind()
}

func (e *APIError) kind() error {
	switch {
	case e.StatusCode >= 200 && e.StatusCode < 300:
		return ErrUnsuccessful
	case e.StatusCode == http.StatusBadRequest:
		return ErrBadRequest
	case e.StatusCode == http.StatusUnauthorized:
		return ErrUnauthorized
	case e.StatusCode == http.StatusForbidden:
		return ErrForbidden
	case e.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case e.StatusCode == http.StatusConflict:
		return ErrConflict
	case e.StatusCode == http.StatusGone:
		return ErrGone
	case e.StatusCode == http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case e.StatusCode == http.StatusTooManyRequests:
		return ErrRateLimited
	case e.StatusCode >= 500:
		return ErrServer
	}
	return ErrUnexpected
}
