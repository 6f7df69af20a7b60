package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store"
)

const adminUsage = `Usage:
  tportal admin provider add  --name NAME --username USER [--reserve-url U] [--cancel-url U]
  tportal admin provider list
  tportal admin provider set  --username USER [--name N] [--reserve-url U] [--cancel-url U] [--secret S] [--new-password]
  tportal admin course add    --name NAME [--description D] --provider USER --external-id ID
  tportal admin course list   [--provider USER]
  tportal admin calls         [--provider USER] [--booking REF] [--limit 50]
  tportal admin token create  --name NAME
  tportal admin token list
Each takes --db/--data like 'tportal serve'.
`

// adminCommand is one admin command: the flags of its own, and what it does once the
// shared flags are parsed and the database is open.
type adminCommand struct {
	flags func(fs *flag.FlagSet)
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
	"calls":         adminCalls,
}

// adminEnvFlags are the admin flags that also read the environment: the shared ones.
var adminEnvFlags = []string{"db", "data", "allow-private-urls"}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 {
		fmt.Fprint(stderr, adminUsage)
		return flag.ErrHelp
	}
	name, rest := args[0], args[1:]
	if _, ok := adminCommands[name]; !ok && len(args) > 1 { // two-word commands: admin provider add
		name, rest = args[0]+" "+args[1], args[2:]
	}
	newCmd, ok := adminCommands[name]
	if !ok {
		fmt.Fprint(stderr, adminUsage)
		return fmt.Errorf("unknown admin command %q", name)
	}
	cmd := newCmd()
	fs := newFlags(name, "tportal admin "+name+" [flags]", stderr, adminEnvFlags...)
	var shared dbFlags
	var allowPrivate bool
	shared.register(fs)
	fs.BoolVar(&allowPrivate, "allow-private-urls", false, "accept provider URLs on loopback and private addresses")
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	db, err := store.Open(ctx, shared.url())
	if err != nil {
		return err
	}
	defer db.Close()
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
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&p.Name, "name", "", "the provider's display name (required)")
			fs.StringVar(&p.Username, "username", "", "API username (required)")
			fs.StringVar(&p.ReserveURL, "reserve-url", "", "the provider's reserve URL (may be a template)")
			fs.StringVar(&p.CancelURL, "cancel-url", "", "the provider's cancel URL (may be a template)")
		},
		run: func(ctx context.Context, env adminEnv) error {
			password, hash, err := auth.NewPassword()
			if err != nil {
				return err
			}
			p.PasswordHash = hash
			if p, err = env.cat.AddProvider(ctx, p); err != nil {
				return err
			}
			fmt.Fprintf(env.out, "provider %q added (id %d)\nusername: %s\npassword: %s\n", p.Name, p.ID, p.Username, password)
			fmt.Fprintln(env.out, "The password is shown only now; store it safely. 'tportal admin provider set --new-password' makes a new one.")
			return nil
		},
	}
}

func adminProviderList() adminCommand {
	return adminCommand{run: func(ctx context.Context, env adminEnv) error {
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
			var password string
			if newPassword {
				var hash string
				var err error
				if password, hash, err = auth.NewPassword(); err != nil {
					return err
				}
				ch.PasswordHash = &hash
			}
			p, err := env.cat.ChangeProvider(ctx, username, ch)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "provider %q updated\n", p.Username)
			if password != "" {
				fmt.Fprintf(env.out, "new password: %s\n", password)
			}
			return nil
		},
	}
}

func adminCourseAdd() adminCommand {
	var c catalog.Course
	var provider string
	return adminCommand{
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
	var name string
	return adminCommand{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "who or what the token is for, e.g. \"Acme intranet\" (required)")
		},
		run: func(ctx context.Context, env adminEnv) error {
			name = strings.TrimSpace(name)
			switch {
			case name == "":
				return errors.New("--name is required: say who or what the token is for")
			case len(name) > 200:
				return errors.New("--name is longer than 200 characters")
			}
			token, hash := auth.NewToken()
			id, err := env.db.CreateToken(ctx, name, hash)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.out, "API token %q created (id %d)\ntoken: %s\n", name, id, token)
			fmt.Fprintln(env.out, "The token is shown only now; store it safely. Send it as 'Authorization: Bearer <token>'.")
			return nil
		},
	}
}

// adminTokenList lists the API tokens by name; the tokens themselves are not stored.
func adminTokenList() adminCommand {
	return adminCommand{run: func(ctx context.Context, env adminEnv) error {
		tokens, err := env.db.Tokens(ctx)
		if err != nil {
			return err
		}
		rows := [][]any{{"ID", "NAME", "CREATED"}}
		for _, t := range tokens {
			rows = append(rows, []any{t.ID, t.Name, t.CreatedAt.UTC().Format(time.RFC3339)})
		}
		return table(env.out, rows)
	}}
}

// adminCalls lists the journal of calls to providers' reserve and cancel URLs.
func adminCalls() adminCommand {
	var provider, ref string
	var limit int
	return adminCommand{
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
