package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodesAndStatuses(t *testing.T) {
	tests := []struct {
		err     error
		code    Code
		status  int
		message string
	}{
		{E(Invalid, "startDate: %s", "bad"), Invalid, 400, "startDate: bad"},
		{E(Unauthorized, "no"), Unauthorized, 401, "no"},
		{E(Forbidden, "theirs"), Forbidden, 403, "theirs"},
		{E(NotFound, "gone"), NotFound, 404, "gone"},
		{E(Unavailable, "wait"), Unavailable, 404, "wait"},
		{E(Conflict, "taken"), Conflict, 409, "taken"},
		{E(Gone, "never"), Gone, 410, "never"},
		{E(TooLarge, "big"), TooLarge, 413, "big"},
		{E(RateLimited, "slow down"), RateLimited, 429, "slow down"},
		{E(BadGateway, "silent"), BadGateway, 502, "silent"},
		{fmt.Errorf("handler: %w", E(Conflict, "wrapped")), Conflict, 409, "wrapped"},
		{errors.New("pq: password authentication failed for user tportal"), Internal, 500, "internal error; it has been logged"},
		{Wrap(errors.New("disk full at /var/lib/x"), "store: insert"), Internal, 500, "internal error; it has been logged"},
	}
	for _, tt := range tests {
		if got := CodeOf(tt.err); got != tt.code {
			t.Errorf("CodeOf(%v) = %s, want %s", tt.err, got, tt.code)
		}
		if got := HTTPStatus(tt.err); got != tt.status {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tt.err, got, tt.status)
		}
		if got := MessageOf(tt.err); got != tt.message {
			t.Errorf("MessageOf(%v) = %q, want %q", tt.err, got, tt.message)
		}
	}
	if Wrap(nil, "x") != nil {
		t.Error("Wrap(nil) is not nil")
	}
	if !errors.Is(Wrap(errTest, "x"), errTest) {
		t.Error("Wrap loses its cause")
	}
}

var errTest = errors.New("cause")
