// Package errs defines the small set of error codes that every layer of tportal speaks,
// and the one table that maps them to HTTP statuses.
//
// Domain and storage code return *Error values with a code and a message meant for the
// caller. Any other error is internal: its text is logged, never shown.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Code classifies an error for callers; it decides the HTTP status.
type Code string

// The codes. Keep this list short: a new code needs a reason a caller acts on differently.
const (
	Invalid      Code = "invalid"      // bad input; the message names the field
	Unauthorized Code = "unauthorized" // missing or wrong credentials
	Forbidden    Code = "forbidden"    // authenticated, but the thing belongs to someone else
	NotFound     Code = "not_found"    // no such thing
	Conflict     Code = "conflict"     // the thing's state forbids the action
	Gone         Code = "gone"         // existed, but will never be available
	TooLarge     Code = "too_large"    // a body or file over a limit
	RateLimited  Code = "rate_limited" // slowed down; try again later
	Unavailable  Code = "unavailable"  // not yet available; try again shortly
	BadGateway   Code = "bad_gateway"  // the other system gave no usable answer
	Internal     Code = "internal"     // a bug or an outage of our own
)

// Error is an error with a code and a message safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	Err     error // optional cause, logged but never shown
	// RetryAfter, when set, is how long the caller should wait before trying again;
	// HTTP adapters send it as Retry-After (whole seconds, at least 1).
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E returns an *Error with the code and a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an internal error that keeps err as its cause for the logs.
func Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Code: Internal, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// RetryAfterOf returns the RetryAfter of the first *Error in err's chain, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Is reports whether err carries the code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// MessageOf returns the message to show a caller: the *Error's message, or a generic text
// for internal errors so that no internal detail leaks.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "internal error; it has been logged"
}

// httpStatus is the one table from codes to HTTP statuses.
var httpStatus = map[Code]int{
	Invalid:      http.StatusBadRequest,
	Unauthorized: http.StatusUnauthorized,
	Forbidden:    http.StatusForbidden,
	NotFound:     http.StatusNotFound,
	Conflict:     http.StatusConflict,
	Gone:         http.StatusGone,
	TooLarge:     http.StatusRequestEntityTooLarge,
	RateLimited:  http.StatusTooManyRequests,
	Unavailable:  http.StatusNotFound, // SPEC §4: a PENDING booking answers 404 + Retry-After
	BadGateway:   http.StatusBadGateway,
	Internal:     http.StatusInternalServerError,
}

// HTTPStatus returns the HTTP status for err.
func HTTPStatus(err error) int {
	if s, ok := httpStatus[CodeOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}
