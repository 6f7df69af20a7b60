package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store"
)

// adminCommand is one admin command: the flags of its own, and what it does once the
// shared flags are parsed and the database is open.
type adminCommand struct {
	summary string
	// creates marks a command that makes something: it may create the database
	// (and says where). Every other command needs an existing database.
	creates bool
	flags   func(fs *flag.FlagSet)
	// check, when set, checks the flags before the database is opened, so a wrong
	// command line never touches (or creates) a database.
	check func() error
	run   func(ctx context.Context, env adminEnv) error
}

// adminEnv is what an admin command works with.
type adminEnv struct {
	db  *store.DB
	cat *catalog.Service
	fs  *flag.FlagSet // to tell which flags were given
	out io.Writer
}

// adminCommands makes the commands by name; each call makes fresh flag variables.
var adminCommands = map[string]func() adminCommand{
	"provider add":  adminProviderAdd,
	"provider list": adminProviderList,
	"provider set":  adminProviderSet,
	"course add":    adminCourseAdd,
	"course list":   adminCourseList,
	"token create":  adminTokenCreate,
	"token list":    adminTokenList,
	"token revoke":  adminTokenRevoke,
	"company list":  adminCompanyList,
	"calls":         adminCalls,
	"staff add":     adminStaffAdd,
}

// adminEnvFlags are the admin flags that also read the environment: the shared ones.
var adminEnvFlags = []string{"db", "data", "allow-private-urls"}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	set := commandSet{}
	for name, newCmd := range adminCommands {
		set[name] = subcommand{summary: newCmd().summary, run: func(ctx context.Context, path string, args []string, stdout, stderr io.Writer) error {
			return runAdminCommand(ctx, name, newCmd(), args, stdout, stderr)
		}}
	}
	return dispatch(ctx, "tportal admin", set, args, stdout, stderr)
}

// runAdminCommand parses an admin command's flags, opens the database (creating it
// only for a command that creates something) and runs it.
func runAdminCommand(ctx context.Context, name string, cmd adminCommand, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin "+name, "tportal admin "+name+" [flags]", stdout, adminEnvFlags...)
	var shared dbFlags
	var allowPrivate bool
	shared.register(fs)
	fs.BoolVar(&allowPrivate, "allow-private-urls", false, "accept provider URLs on loopback and private addresses")
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if cmd.check != nil {
		if err := cmd.check(); err != nil {
			return err
		}
	}
	open := store.OpenExisting
	if cmd.creates {
		open = store.Open
	}
	db, err := open(ctx, shared.url())
	if errs.Is(err, errs.NotFound) {
		return fmt.Errorf("%v: give the --db or --data of an existing portal ('tportal demo' prints its --data), or create it with a command that adds something, such as 'tportal admin provider add'", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Created() {
		fmt.Fprintf(stderr, "tportal: created a new database at %s\n", store.Redact(shared.url()))
	}
	cat := newCatalog(db, serveConfig{dbFlags: shared, allowPrivateURLs: allowPrivate})
	return cmd.run(ctx, adminEnv{db: db, cat: cat, fs: fs, out: stdout})
}

// table writes aligned columns; the first row is the header.
func table(w io.Writer, rows [][]any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = fmt.Sprint(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func adminProviderAdd() adminCommand {
	var p catalog.Provider
	return adminCommand{
		summary: "add a course provider; prints its generated password once", creates: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&p.Name, "name", "", "the provider's display name (required)")
			fs.StringVar(&p.Username, "username", "", "API username (required)")
			fs.StringVar(&p.ReserveURL, "reserve-url", "", "the provider's reserve URL (may be a template)")
			fs.StringVar(&p.CancelURL, "cancel-url", "", "the provider's cancel URL (may be a template)")
		},
		run: func(ctx context.Context, env adminEnv) error {
			p, password, err := env.cat.RegisterProvider(ctx, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "provider %q added (id %d)\nusername: %s\npassword: %s\n", p.Name, p.ID, p.Username, password)
			fmt.Fprintln(env.out, "The password is shown only now; store it safely. 'tportal admin provider set --new-password' makes a new one.")
			return nil
		},
	}
}

func adminProviderList() adminCommand {
	return adminCommand{summary: "list the providers, their URLs and whether calls are signed", run: func(ctx context.Context, env adminEnv) error {
		providers, err := env.db.Providers(ctx)
		if err != nil {
			return err
		}
		rows := [][]any{{"ID", "USERNAME", "NAME", "RESERVE URL", "CANCEL URL", "SIGNED"}}
		for _, p := range providers {
			rows = append(rows, []any{p.ID, p.Username, p.Name, orDash(p.ReserveURL), orDash(p.CancelURL), p.Secret != ""})
		}
		return table(env.out, rows)
	}}
}

func adminProviderSet() adminCommand {
	var username string
	var newPassword bool
	opt := map[string]*string{}
	return adminCommand{
		summary: "change a provider's name, URLs, signing secret or password",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&username, "username", "", "the provider to change (required)")
			fs.BoolVar(&newPassword, "new-password", false, "generate a new password and print it once")
			for name, usage := range map[string]string{
				"name":        "new display name",
				"reserve-url": "new reserve URL ('' to clear)",
				"cancel-url":  "new cancel URL ('' to clear)",
				"secret":      "shared secret for signing calls to the provider ('' to stop signing)",
			} {
				opt[name] = new(string)
				fs.StringVar(opt[name], name, "", usage)
			}
		},
		run: func(ctx context.Context, env adminEnv) error {
			// Only the flags given change something; an empty value given clears.
			var ch catalog.ProviderChange
			env.fs.Visit(func(f *flag.Flag) {
				switch f.Name {
				case "name":
					ch.Name = opt["name"]
				case "reserve-url":
					ch.ReserveURL = opt["reserve-url"]
				case "cancel-url":
					ch.CancelURL = opt["cancel-url"]
				case "secret":
					ch.Secret = opt["secret"]
				}
			})
			// The other changes first, so a refused one makes no password; the
			// password is the catalogue's rotation rule, as on the staff pages.
			var p catalog.Provider
			var password string
			var err error
			if ch != (catalog.ProviderChange{}) || !newPassword {
				if p, err = env.cat.ChangeProvider(ctx, username, ch); err != nil {
					return err
				}
			}
			if newPassword {
				if p, password, err = env.cat.RotateProviderPassword(ctx, username); err != nil {
					return err
				}
			}
			fmt.Fprintf(env.out, "provider %q updated\n", p.Username)
			if password != "" {
				fmt.Fprintf(env.out, "new password: %s\nThe old password no longer works; the new one is shown only now.\n", password)
			}
			return nil
		},
	}
}

func adminCourseAdd() adminCommand {
	var c catalog.Course
	var provider string
	return adminCommand{
		summary: "add a course and assign it to a provider", creates: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&c.Name, "name", "", "course name (required)")
			fs.StringVar(&c.Description, "description", "", "course description")
			fs.StringVar(&provider, "provider", "", "username of the provider that runs the course (required)")
			fs.StringVar(&c.ExternalID, "external-id", "", "the provider's id for the course, its externalCourseId (required)")
		},
		run: func(ctx context.Context, env adminEnv) error {
			c, err := env.cat.AddCourse(ctx, provider, c)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "course %q added (id %d, externalCourseId %q, provider %s)\n", c.Name, c.ID, c.ExternalID, provider)
			return nil
		},
	}
}

func adminCourseList() adminCommand {
	var provider string
	return adminCommand{
		summary: "list the courses",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&provider, "provider", "", "only this provider's courses")
		},
		run: func(ctx context.Context, env adminEnv) error {
			courses, err := env.cat.AllCourses(ctx, provider)
			if err != nil {
				return err
			}
			providers, err := env.db.Providers(ctx)
			if err != nil {
				return err
			}
			username := map[int64]string{}
			for _, p := range providers {
				username[p.ID] = p.Username
			}
			rows := [][]any{{"ID", "EXTERNAL ID", "PROVIDER", "NAME"}}
			for _, c := range courses {
				rows = append(rows, []any{c.ID, c.ExternalID, username[c.ProviderID], c.Name})
			}
			return table(env.out, rows)
		},
	}
}

// adminTokenCreate makes an API token for the booking API (/api/v1/) and prints it
// once: only its hash is stored.
func adminTokenCreate() adminCommand {
	var name, expires, company string
	var expiresAt *time.Time
	var companyID int64
	return adminCommand{
		summary: "make an API token for /api/v1; prints it once", creates: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "who or what the token is for, e.g. \"Acme intranet\" (required)")
			fs.StringVar(&expires, "expires", "", "when the token stops working: a duration from now (720h) or a date (2027-06-30, the end of that day UTC); default never")
			fs.StringVar(&company, "company", "", "the id of the company the token acts for: it books for that company and sees only its bookings; without it the token is portal-wide, for staff integrations")
		},
		check: func() (err error) {
			name = strings.TrimSpace(name)
			switch {
			case name == "":
				return usageErrorf("--name is required: say who or what the token is for")
			case utf8.RuneCountInString(name) > 200:
				return usageErrorf("--name is longer than 200 characters")
			}
			if company = strings.TrimSpace(company); company != "" {
				if companyID, err = strconv.ParseInt(company, 10, 64); err != nil || companyID <= 0 {
					return usageErrorf("--company %q is not a company id (a number; 'tportal admin company list' shows them)", company)
				}
			}
			expiresAt, err = parseExpiry(expires, time.Now())
			return err
		},
		run: func(ctx context.Context, env adminEnv) error {
			token, hash := auth.NewToken()
			id, err := env.db.CreateCompanyToken(ctx, name, hash, expiresAt, companyID)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "API token %q created (id %d)\ntoken: %s\n", name, id, token)
			if companyID != 0 {
				fmt.Fprintf(env.out, "company: %d (the token books for it and sees only its bookings)\n", companyID)
			} else {
				fmt.Fprintln(env.out, "portal-wide: the token sees every booking (for staff integrations)")
			}
			if expiresAt != nil {
				fmt.Fprintf(env.out, "expires: %s\n", expiresAt.UTC().Format(time.RFC3339))
			}
			fmt.Fprintln(env.out, "The token is shown only now; store it safely. Send it as 'Authorization: Bearer <token>'.")
			return nil
		},
	}
}

// parseExpiry reads --expires: "" (never), a duration from now, or a date (the token
// works through that day, UTC) or an RFC 3339 time. The moment must be in the future.
func parseExpiry(v string, now time.Time) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	var at time.Time
	if d, err := time.ParseDuration(v); err == nil {
		at = now.Add(d)
	} else if day, err := time.Parse(time.DateOnly, v); err == nil {
		at = day.AddDate(0, 0, 1)
	} else if t, err := time.Parse(time.RFC3339, v); err == nil {
		at = t
	} else {
		hint := ""
		if _, err := strconv.Atoi(v); err == nil {
			hint = fmt.Sprintf("; did you mean %sh?", v)
		}
		return nil, usageErrorf("--expires %q is neither a duration (720h) nor a date (2027-06-30)%s", v, hint)
	}
	if !at.After(now) {
		return nil, usageErrorf("--expires %q is not in the future", v)
	}
	return &at, nil
}

// adminTokenList lists the API tokens by name; the tokens themselves are not stored.
func adminTokenList() adminCommand {
	return adminCommand{summary: "list the API tokens: status, expiry and last use", run: func(ctx context.Context, env adminEnv) error {
		tokens, err := env.db.Tokens(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		stamp := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.UTC().Format(time.RFC3339)
		}
		rows := [][]any{{"ID", "NAME", "STATUS", "CREATED", "EXPIRES", "LAST USED", "COMPANY"}}
		for _, t := range tokens {
			company := "portal-wide"
			if t.CompanyID != 0 {
				company = strconv.FormatInt(t.CompanyID, 10)
			}
			rows = append(rows, []any{t.ID, t.Name, t.Status(now), t.CreatedAt.UTC().Format(time.RFC3339), stamp(t.ExpiresAt), stamp(t.LastUsedAt), company})
		}
		if err := table(env.out, rows); err != nil {
			return err
		}
		fmt.Fprintf(env.out, "(LAST USED is updated at most once every %s per token)\n", auth.TouchEvery)
		return nil
	}}
}

// adminTokenRevoke revokes a token at once, on every instance.
func adminTokenRevoke() adminCommand {
	var id, name string
	var tokenID int64
	return adminCommand{
		summary: "revoke an API token, by --id or --name",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&id, "id", "", "the token's id, as 'token list' shows it")
			fs.StringVar(&name, "name", "", "the token's name, when one active token has it")
		},
		check: func() (err error) {
			if (id == "") == (name == "") {
				return usageErrorf("give either --id or --name of the token to revoke")
			}
			if id != "" {
				if tokenID, err = strconv.ParseInt(id, 10, 64); err != nil {
					return usageErrorf("--id %q is not a token id (a number; 'tportal admin token list' shows them)", id)
				}
			}
			return nil
		},
		run: func(ctx context.Context, env adminEnv) error {
			tokens := &auth.TokenAuth{Store: env.db}
			var t auth.Token
			var err error
			if id != "" {
				t, err = tokens.Revoke(ctx, tokenID)
			} else {
				t, err = tokens.RevokeNamed(ctx, name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "API token %q (id %d) revoked at %s; requests with it are now refused.\n", t.Name, t.ID, t.RevokedAt.UTC().Format(time.RFC3339))
			return nil
		},
	}
}

// adminCalls lists the journal of calls to providers' reserve and cancel URLs.
func adminCalls() adminCommand {
	var provider, ref string
	var limit int
	return adminCommand{
		summary: "show the journal of calls to providers' reserve and cancel URLs",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&provider, "provider", "", "only calls to this provider (username)")
			fs.StringVar(&ref, "booking", "", "only calls about this booking reference")
			fs.IntVar(&limit, "limit", 50, "how many of the newest calls to show")
		},
		run: func(ctx context.Context, env adminEnv) error {
			f := store.CallFilter{BookingReference: ref, Limit: limit}
			if provider != "" {
				p, err := env.db.ProviderByUsername(ctx, provider)
				if err != nil {
					return fmt.Errorf("no provider with username %q", provider)
				}
				f.ProviderID = p.ID
			}
			calls, err := env.db.Calls(ctx, f)
			if err != nil {
				return err
			}
			rows := [][]any{{"TIME", "PROVIDER", "KIND", "STATUS", "LATENCY", "OUTCOME", "SUCCESS", "BOOKING", "URL", "ERROR"}}
			for _, c := range calls {
				rows = append(rows, []any{c.At.Format(time.RFC3339), c.ProviderName, c.Kind, c.HTTPStatus, c.Latency,
					c.Outcome, c.Success, orDash(c.BookingReference), c.URL, orDash(c.Error)})
			}
			return table(env.out, rows)
		},
	}
}

// adminCompanyList lists the companies signed up on the web pages, for
// 'token create --company'.
func adminCompanyList() adminCommand {
	return adminCommand{summary: "list the companies signed up on the web pages", run: func(ctx context.Context, env adminEnv) error {
		companies, err := env.db.Companies(ctx)
		if err != nil {
			return err
		}
		rows := [][]any{{"ID", "NAME", "SIGNED UP"}}
		for _, c := range companies {
			rows = append(rows, []any{c.ID, c.Name, c.CreatedAt.UTC().Format(time.RFC3339)})
		}
		return table(env.out, rows)
	}}
}

// adminStdin is where 'staff add --password-stdin' reads the password; tests replace it.
var adminStdin io.Reader = os.Stdin

// adminStaffAdd creates a staff account for the web pages' staff section: the first
// one of a new portal, or another. The password is read from standard input (never a
// flag, which other users of the machine can see in the process list) or generated and
// printed once.
func adminStaffAdd() adminCommand {
	var email, firstName, lastName string
	var fromStdin bool
	return adminCommand{
		summary: "add a portal staff account for the web pages; prints a generated password once", creates: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&email, "email", "", "the staff member's e-mail address, to sign in with (required)")
			fs.StringVar(&firstName, "first-name", "", "first name (required)")
			fs.StringVar(&lastName, "last-name", "", "last name (required)")
			fs.BoolVar(&fromStdin, "password-stdin", false, "read the password (12 to 72 bytes) from the first line of standard input instead of generating one")
		},
		check: func() error {
			if strings.TrimSpace(email) == "" || strings.TrimSpace(firstName) == "" || strings.TrimSpace(lastName) == "" {
				return usageErrorf("--email, --first-name and --last-name are required")
			}
			return nil
		},
		run: func(ctx context.Context, env adminEnv) error {
			password, generated := "", !fromStdin
			if fromStdin {
				line, err := bufio.NewReader(adminStdin).ReadString('\n')
				if err != nil && err != io.EOF {
					return fmt.Errorf("reading the password from standard input: %w", err)
				}
				password = strings.TrimRight(line, "\r\n")
			} else {
				var err error
				if password, _, err = auth.NewPassword(); err != nil {
					return err
				}
			}
			accounts := &account.Service{Store: env.db, Passwords: &auth.Passwords{}}
			a, err := accounts.AddStaff(ctx, firstName, lastName, email, password)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "staff account %s (%s) added (id %d); sign in at /signin, then open /staff\n", a.Email, a.Name(), a.ID)
			if generated {
				fmt.Fprintf(env.out, "password: %s\n", password)
				fmt.Fprintln(env.out, "The password is shown only now; store it safely.")
			}
			return nil
		},
	}
}
