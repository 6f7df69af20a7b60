package sqldb_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/sqldb"
)

func TestMapErr(t *testing.T) {
	coded := errs.E(errs.Forbidden, "not yours")
	tests := []struct {
		name string
		in   error
		code errs.Code
	}{
		{"no rows is not found", sql.ErrNoRows, errs.NotFound},
		{"a coded error keeps its code", coded, errs.Forbidden},
		{"anything else is internal", errors.New("disk on fire"), errs.Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sqldb.MapErr(tc.in, "store", "class")
			if !errs.Is(got, tc.code) {
				t.Fatalf("MapErr(%v) = %v, want code %v", tc.in, got, tc.code)
			}
		})
	}
	if sqldb.MapErr(nil, "store", "class") != nil {
		t.Error("MapErr(nil) is not nil")
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/tportal", "postgres://app:xxxxx@db:5432/tportal"},
		{"postgres://app@db/tportal", "postgres://app@db/tportal"},
		{"sqlite:./data/tportal.db", "sqlite:./data/tportal.db"},
	}
	for _, tc := range tests {
		if got := sqldb.Redact(tc.in); got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
