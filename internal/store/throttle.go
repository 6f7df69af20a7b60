package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/auth"
)

var _ auth.ThrottleStore = (*DB)(nil)

// AddFailure implements auth.ThrottleStore. It is auth.Bucket.Step as one upsert, so
// that failures counted at once by several portal instances are all counted: the row
// lock (PostgreSQL) or the write lock (SQLite) serialises them, and none reads a
// value another is about to change.
func (s *DB) AddFailure(ctx context.Context, keyHash string, now time.Time, every time.Duration) (time.Time, error) {
	var fullAt int64
	err := s.q().QueryRowContext(ctx, `INSERT INTO signin_throttle (key_hash, full_at) VALUES ($1, $2)
ON CONFLICT (key_hash) DO UPDATE SET full_at = CASE WHEN signin_throttle.full_at > $3 THEN signin_throttle.full_at + $4 ELSE excluded.full_at END
RETURNING full_at`, keyHash, millis(now.Add(every)), millis(now), every.Milliseconds()).Scan(&fullAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: count a failed sign-in: %w", err)
	}
	return fromMillis(fullAt), nil
}

// ThrottleFullAt implements auth.ThrottleStore, with one query for all the keys (a
// sign-in asks for two).
func (s *DB) ThrottleFullAt(ctx context.Context, keyHashes ...string) (time.Time, error) {
	if len(keyHashes) == 0 {
		return time.Time{}, nil
	}
	marks := make([]string, len(keyHashes))
	args := make([]any, len(keyHashes))
	for i, h := range keyHashes {
		marks[i], args[i] = fmt.Sprintf("$%d", i+1), h
	}
	var fullAt int64
	err := s.q().QueryRowContext(ctx, `SELECT COALESCE(MAX(full_at), 0) FROM signin_throttle WHERE key_hash IN (`+strings.Join(marks, ", ")+`)`, args...).Scan(&fullAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: read sign-in slow-down: %w", err)
	}
	if fullAt == 0 {
		return time.Time{}, nil
	}
	return fromMillis(fullAt), nil
}

// DeleteFullThrottles implements auth.ThrottleStore.
func (s *DB) DeleteFullThrottles(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.q().ExecContext(ctx, `DELETE FROM signin_throttle WHERE full_at <= $1`, millis(before))
	if err != nil {
		return 0, fmt.Errorf("store: delete full sign-in buckets: %w", err)
	}
	return res.RowsAffected()
}
