package auth

import (
	"strings"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	b := Bucket{Burst: 2, Every: time.Minute, MaxDelay: 5 * time.Minute}
	// Each case replays failures at the given offsets from t0 on a fresh bucket, then
	// asks for the state and the delay at the instant at.
	for _, tc := range []struct {
		name     string
		failures []time.Duration
		at       time.Duration
		full     time.Duration // FullAt - t0; 0: no bucket
		delay    time.Duration
	}{
		{"a fresh key waits not", nil, 0, 0, 0},
		{"one failure is within the burst", []time.Duration{0}, 0, time.Minute, 0},
		{"the burst used up: the next attempt waits one Every", []time.Duration{0, 0}, 0, 2 * time.Minute, time.Minute},
		{"the wait shrinks as time passes", []time.Duration{0, 0}, 20 * time.Second, 2 * time.Minute, 40 * time.Second},
		{"one Every later one more failure fits", []time.Duration{0, 0}, time.Minute, 2 * time.Minute, 0},
		{"failures beyond the burst still count", []time.Duration{0, 0, 0, 0}, 0, 4 * time.Minute, 3 * time.Minute},
		{"the wait is capped at MaxDelay", make([]time.Duration, 20), 0, 20 * time.Minute, 5 * time.Minute},
		{"a full bucket starts again from now", []time.Duration{0, 0, 10 * time.Minute}, 10 * time.Minute, 11 * time.Minute, 0},
		{"refilling stops at full: old failures are forgiven", []time.Duration{0, 0, 10 * time.Minute, 10 * time.Minute}, 10 * time.Minute, 12 * time.Minute, time.Minute},
		{"failures spread one per Every never wait", []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute}, 3 * time.Minute, 4 * time.Minute, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var full time.Time
			for _, f := range tc.failures {
				full = b.Step(full, t0.Add(f))
			}
			if tc.full == 0 && !full.IsZero() || tc.full != 0 && !full.Equal(t0.Add(tc.full)) {
				t.Errorf("FullAt = %s, want t0+%s", full, tc.full)
			}
			if d := b.Delay(full, t0.Add(tc.at)); d != tc.delay {
				t.Errorf("Delay = %s, want %s", d, tc.delay)
			}
		})
	}
}

func TestBucketDefaults(t *testing.T) {
	var b Bucket // 5 at once, then one per 2 s, wait at most 10 s
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var full time.Time
	for i := range 5 {
		full = b.Step(full, t0)
		if d := b.Delay(full, t0); d != 0 && i < 4 {
			t.Errorf("after %d failures: delay %s within the burst", i+1, d)
		}
	}
	if d := b.Delay(full, t0); d != 2*time.Second {
		t.Errorf("after the burst: delay %s, want 2s", d)
	}
	for range 100 {
		full = b.Step(full, t0)
	}
	if d := b.Delay(full, t0); d != 10*time.Second {
		t.Errorf("after 105 failures: delay %s, want the cap 10s", d)
	}
}

func TestThrottleKeyIsHashed(t *testing.T) {
	a, b := throttleKey("email:kari@acme.example"), throttleKey("email:kari@acme.example")
	if a != b || len(a) != 64 {
		t.Errorf("throttleKey not a stable SHA-256: %q %q", a, b)
	}
	if a == throttleKey("email:ola@acme.example") {
		t.Error("two keys share a hash")
	}
	for _, part := range []string{"kari", "acme", "email"} {
		if strings.Contains(a, part) {
			t.Errorf("hash %q shows %q", a, part)
		}
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
