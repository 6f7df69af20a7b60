package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tportal/tportal/internal/auth"
)

// adminTokenCreate makes an API token for the booking API (/api/v1/) and prints it
// once: only its hash is stored.
func adminTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := newAdminFlags("token create", stderr)
	var name string
	fs.StringVar(&name, "name", "", "who or what the token is for, e.g. \"Acme intranet\" (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return errors.New("--name is required: say who or what the token is for")
	case len(name) > 200:
		return errors.New("--name is longer than 200 characters")
	}
	db, _, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	token, hash := auth.NewToken()
	id, err := db.CreateToken(ctx, name, hash)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "API token %q created (id %d)\ntoken: %s\n", name, id, token)
	fmt.Fprintln(stdout, "The token is shown only now; store it safely. Send it as 'Authorization: Bearer <token>'.")
	return nil
}

// adminTokenList lists the API tokens by name; the tokens themselves are not stored.
func adminTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := newAdminFlags("token list", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, _, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	tokens, err := db.Tokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED")
	for _, t := range tokens {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
