package booking_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
)

// A cleanup the portal cannot even send — the cancel URL needs the provider's
// reference in its path, and an unanswered reservation never got one — is given up at
// once with the reason on the booking, instead of being retried for ever.
func TestCleanupThatCannotBeSentIsGivenUp(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", 300*time.Millisecond)
	fp := newFakeProvider(t)
	fp.onReserve(answer(http.StatusInternalServerError, "text/plain", "down"))
	p, co := e.addProvider(t, "acme", fp)
	cancelURL := fp.URL + "/bookings/{providerBookingReference}/cancel"
	if _, err := e.cat.ChangeProvider(ctx, "acme", catalog.ProviderChange{CancelURL: &cancelURL}); err != nil {
		t.Fatal(err)
	}
	class := e.addClass(t, p, co, "W1", 3)
	b, _ := e.svc.Book(ctx, request(class.ID, "Kari"))
	if b.State != booking.Abandoned || !b.CleanupPending {
		t.Fatalf("Book = %+v", b)
	}
	if err := e.svc.CleanupAbandoned(ctx, b.Reference); err != nil {
		t.Fatalf("CleanupAbandoned = %v, want nil (given up, not retried)", err)
	}
	got := e.get(t, b.Reference)
	if got.CleanupPending || !strings.Contains(got.Message, "cancel it with the provider by hand") {
		t.Errorf("after the cleanup: pending %v, message %q", got.CleanupPending, got.Message)
	}
	if n := len(fp.cancelCalls()); n != 0 {
		t.Errorf("%d cancel calls reached the provider, want 0", n)
	}
}
