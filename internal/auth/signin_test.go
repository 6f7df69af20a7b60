package auth

import (
	"context"
	"testing"
	"time"
)

func TestSignInThrottle(t *testing.T) {
	th := &SignInThrottle{Burst: 2, Every: time.Minute, MaxDelay: 5 * time.Second}
	steps := []struct {
		name    string
		fail    []string
		keys    []string
		delayed bool
	}{
		{"a fresh key waits not", nil, []string{"client:a", "email:x"}, false},
		{"one failure is within the burst", []string{"client:a"}, []string{"client:a"}, false},
		{"the burst used up: the next attempt waits", []string{"client:a"}, []string{"client:a"}, true},
		{"another client for the same e-mail is not slowed by a's failures", nil, []string{"client:b", "email:y"}, false},
		{"any limited key slows the attempt", nil, []string{"client:b", "client:a"}, true},
	}
	for _, s := range steps {
		if len(s.fail) > 0 {
			th.Failed(s.fail...)
		}
		d := th.Delay(s.keys...)
		if (d > 0) != s.delayed {
			t.Errorf("%s: delay %s", s.name, d)
		}
		if d > th.MaxDelay {
			t.Errorf("%s: delay %s beyond MaxDelay", s.name, d)
		}
	}
	// Many more failures never wait longer than MaxDelay, and a cancelled request
	// stops waiting.
	for range 50 {
		th.Failed("client:a")
	}
	if d := th.Delay("client:a"); d != th.MaxDelay {
		t.Errorf("after 50 failures: delay %s, want the cap %s", d, th.MaxDelay)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := th.Wait(ctx, "client:a"); err == nil {
		t.Error("Wait with a cancelled context returned nil")
	}
}

func TestPasswords(t *testing.T) {
	old := BcryptCost
	BcryptCost = 4
	defer func() { BcryptCost = old }()
	var p Passwords
	hash, err := p.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		hash, password string
		want           bool
	}{
		{hash, "correct horse battery", true},
		{hash, "correct horse battery!", false},
		{"", "correct horse battery", false}, // no such account
		{"not a hash", "x", false},
	} {
		if got := p.Matches(tc.hash, tc.password); got != tc.want {
			t.Errorf("Matches(%q, %q) = %v", tc.hash, tc.password, got)
		}
	}
	if _, err := p.Hash("short"); err == nil {
		t.Error("a short password was hashed")
	}
}
