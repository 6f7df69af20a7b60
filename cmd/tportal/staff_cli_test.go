package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// 'admin staff add' makes staff accounts that sign in, with a generated password
// shown once or one read from standard input, and refuses what the rules refuse.
func TestAdminStaffAdd(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		dbURL := storetest.URL(t, dialect)
		env := []string{"TPORTAL_DB=" + dbURL}
		out := adminRun(t, env, 0, "staff", "add", "--email", "Siri@Portal.example", "--first-name", "Siri", "--last-name", "Staff")
		m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "created a new database") || !strings.Contains(out, "staff account siri@portal.example (Siri Staff) added") {
			t.Fatalf("staff add:\n%s", out)
		}

		saved := adminStdin
		t.Cleanup(func() { adminStdin = saved })
		adminStdin = strings.NewReader("correct horse battery staple\nnot this line\n")
		out = adminRun(t, env, 0, "staff", "add", "--email", "ola@portal.example", "--first-name", "Ola", "--last-name", "Drift", "--password-stdin")
		if strings.Contains(out, "password:") {
			t.Errorf("a password given on standard input was printed:\n%s", out)
		}

		db, err := store.OpenExisting(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		accounts := &account.Service{Store: db, Passwords: &auth.Passwords{}}
		for email, password := range map[string]string{"siri@portal.example": m[1], "ola@portal.example": "correct horse battery staple"} {
			a, err := accounts.SignIn(context.Background(), "test", email, password)
			if err != nil || a.Role != account.Staff || a.CompanyID != 0 {
				t.Errorf("sign in as %s: %+v, %v", email, a, err)
			}
		}

		for _, tc := range []struct {
			stdin string
			args  []string
			want  string
		}{
			{"", []string{"--email", "siri@portal.example", "--first-name", "S", "--last-name", "T"}, "already has an account"},
			{"", []string{"--email", "not-an-address", "--first-name", "S", "--last-name", "T"}, "email: is not an e-mail address"},
			{"short\n", []string{"--email", "x@portal.example", "--first-name", "S", "--last-name", "T", "--password-stdin"}, "password: must be at least 12"},
		} {
			adminStdin = strings.NewReader(tc.stdin)
			if out := adminRun(t, env, 1, append([]string{"staff", "add"}, tc.args...)...); !strings.Contains(out, tc.want) {
				t.Errorf("staff add %v: want %q in\n%s", tc.args, tc.want, out)
			}
		}
	})
}
