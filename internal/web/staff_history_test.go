package web

import (
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/providercall"
)

// TestHistoryOrder: the records keep milliseconds, so a call and the change it
// caused often share one; the history still tells them in the order they happened.
func TestHistoryOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	same := t0.Add(time.Second)
	b := booking.Booking{Reference: "R", CreatedAt: t0, Student: booking.Person{FirstName: "Ola"}}
	reserve := providercall.Call{ID: 1, At: same, Kind: providercall.KindReserve, ProviderName: "P", Outcome: providercall.OutcomeAnswered, Success: true}
	cancel := providercall.Call{ID: 2, At: same, Kind: providercall.KindCancel, ProviderName: "P", Outcome: providercall.OutcomeAnswered, Success: true}
	reserved := booking.Event{At: same, From: booking.Pending, To: booking.Reserved}
	cancelled := booking.Event{At: same, From: booking.Reserved, To: booking.Cancelled}
	for _, tc := range []struct {
		name   string
		calls  []providercall.Call // newest first, as the journal lists them
		events []booking.Event
		want   []string
	}{
		{"all in one millisecond", []providercall.Call{cancel, reserve}, []booking.Event{reserved, cancelled},
			[]string{"Booking made", "Reserve call to P", "Reserved by the provider", "Cancel call to P", "Cancelled"}},
		{"status update before a later call", []providercall.Call{cancel},
			[]booking.Event{{At: same, From: booking.Reserved, To: booking.NoShow}, cancelled},
			[]string{"Booking made", "Status set by the provider: Did not attend", "Cancel call to P", "Cancelled"}},
		{"by time first", []providercall.Call{{At: t0.Add(2 * time.Second), Kind: providercall.KindReserve, ProviderName: "P"}},
			[]booking.Event{{At: same, From: booking.Pending, To: booking.Abandoned}},
			[]string{"Booking made", "Given up: the provider gave no usable answer", "Reserve call to P"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := history(b, tc.events, tc.calls, nil, nil)
			var got []string
			for _, e := range h {
				got = append(got, e.What)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("history %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("history %q, want %q", got, tc.want)
					break
				}
			}
		})
	}
}
