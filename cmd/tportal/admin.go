package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

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

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 {
		fmt.Fprint(stderr, adminUsage)
		return flag.ErrHelp
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"provider add":  adminProviderAdd,
		"provider list": adminProviderList,
		"provider set":  adminProviderSet,
		"course add":    adminCourseAdd,
		"course list":   adminCourseList,
		"token create":  adminTokenCreate,
		"token list":    adminTokenList,
		"calls":         adminCalls,
	}
	name, rest := args[0], args[1:]
	if _, ok := cmds[name]; !ok && len(args) > 1 { // two-word commands: admin provider add
		name, rest = args[0]+" "+args[1], args[2:]
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprint(stderr, adminUsage)
		return fmt.Errorf("unknown admin command %q", name)
	}
	return cmd(ctx, rest, stdout, stderr)
}

// adminEnvFlags are the admin flags that also read the environment: the shared ones.
var adminEnvFlags = []string{"db", "data", "allow-private-urls"}

// adminFlags are the flags every admin command shares.
type adminFlags struct {
	dbFlags
	allowPrivateURLs bool
}

func (a *adminFlags) open(ctx context.Context) (*store.DB, *catalog.Service, error) {
	db, err := store.Open(ctx, a.url())
	if err != nil {
		return nil, nil, err
	}
	return db, newCatalog(db, serveConfig{dbFlags: a.dbFlags, allowPrivateURLs: a.allowPrivateURLs}), nil
}

func newAdminFlags(name string, stderr io.Writer) (*flag.FlagSet, *adminFlags) {
	fs := newFlags(name, "tportal admin "+name+" [flags]", stderr, adminEnvFlags...)
	var a adminFlags
	a.register(fs)
	fs.BoolVar(&a.allowPrivateURLs, "allow-private-urls", false, "accept provider URLs on loopback and private addresses")
	return fs, &a
}

func adminProviderAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := newAdminFlags("provider add", stderr)
	var p catalog.Provider
	fs.StringVar(&p.Name, "name", "", "the provider's display name (required)")
	fs.StringVar(&p.Username, "username", "", "API username (required)")
	fs.StringVar(&p.ReserveURL, "reserve-url", "", "the provider's reserve URL (may be a template)")
	fs.StringVar(&p.CancelURL, "cancel-url", "", "the provider's cancel URL (may be a template)")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, cat, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	password, hash, err := auth.NewPassword()
	if err != nil {
		return err
	}
	p.PasswordHash = hash
	if p, err = cat.AddProvider(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "provider %q added (id %d)\nusername: %s\npassword: %s\n", p.Name, p.ID, p.Username, password)
	fmt.Fprintln(stdout, "The password is shown only now; store it safely. 'tportal admin provider set --new-password' makes a new one.")
	return nil
}

func adminProviderList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := newAdminFlags("provider list", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, _, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	providers, err := db.Providers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tNAME\tRESERVE URL\tCANCEL URL\tSIGNED")
	for _, p := range providers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%v\n", p.ID, p.Username, p.Name, orDash(p.ReserveURL), orDash(p.CancelURL), p.Secret != "")
	}
	return tw.Flush()
}

func adminProviderSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := newAdminFlags("provider set", stderr)
	var username string
	var newPassword bool
	fs.StringVar(&username, "username", "", "the provider to change (required)")
	fs.BoolVar(&newPassword, "new-password", false, "generate a new password and print it once")
	opt := map[string]*string{}
	for name, usage := range map[string]string{
		"name":        "new display name",
		"reserve-url": "new reserve URL ('' to clear)",
		"cancel-url":  "new cancel URL ('' to clear)",
		"secret":      "shared secret for signing calls to the provider ('' to stop signing)",
	} {
		opt[name] = new(string)
		fs.StringVar(opt[name], name, "", usage)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	var ch catalog.ProviderChange
	fs.Visit(func(f *flag.Flag) {
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
	db, cat, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := cat.ChangeProvider(ctx, username, ch)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "provider %q updated\n", p.Username)
	if password != "" {
		fmt.Fprintf(stdout, "new password: %s\n", password)
	}
	return nil
}

func adminCourseAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := newAdminFlags("course add", stderr)
	var c catalog.Course
	var provider string
	fs.StringVar(&c.Name, "name", "", "course name (required)")
	fs.StringVar(&c.Description, "description", "", "course description")
	fs.StringVar(&provider, "provider", "", "username of the provider that runs the course (required)")
	fs.StringVar(&c.ExternalID, "external-id", "", "the provider's id for the course, its externalCourseId (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, cat, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if c, err = cat.AddCourse(ctx, provider, c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "course %q added (id %d, externalCourseId %q, provider %s)\n", c.Name, c.ID, c.ExternalID, provider)
	return nil
}

func adminCourseList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := newAdminFlags("course list", stderr)
	var provider string
	fs.StringVar(&provider, "provider", "", "only this provider's courses")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, cat, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	courses, err := cat.AllCourses(ctx, provider)
	if err != nil {
		return err
	}
	byID := map[int64]string{}
	providers, err := db.Providers(ctx)
	if err != nil {
		return err
	}
	for _, p := range providers {
		byID[p.ID] = p.Username
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEXTERNAL ID\tPROVIDER\tNAME")
	for _, c := range courses {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", c.ID, c.ExternalID, byID[c.ProviderID], c.Name)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
