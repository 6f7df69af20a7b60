package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tportal/tportal/internal/store"
)

// adminCalls lists the journal of calls to providers' reserve and cancel URLs.
func adminCalls(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := newAdminFlags("calls", stderr)
	var provider, ref string
	var limit int
	fs.StringVar(&provider, "provider", "", "only calls to this provider (username)")
	fs.StringVar(&ref, "booking", "", "only calls about this booking reference")
	fs.IntVar(&limit, "limit", 50, "how many of the newest calls to show")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, _, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	f := store.CallFilter{BookingReference: ref, Limit: limit}
	if provider != "" {
		p, err := db.ProviderByUsername(ctx, provider)
		if err != nil {
			return fmt.Errorf("no provider with username %q", provider)
		}
		f.ProviderID = p.ID
	}
	calls, err := db.Calls(ctx, f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tPROVIDER\tKIND\tSTATUS\tLATENCY\tOUTCOME\tSUCCESS\tBOOKING\tURL\tERROR")
	for _, c := range calls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%v\t%s\t%s\t%s\n", c.At.Format(time.RFC3339), c.ProviderName, c.Kind,
			c.HTTPStatus, c.Latency, c.Outcome, c.Success, orDash(c.BookingReference), c.URL, orDash(c.Error))
	}
	return tw.Flush()
}
