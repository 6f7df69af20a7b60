package booking

import (
	"context"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// ForProvider returns the provider's booking for getBookingInformation. ref is the
// portal's booking reference or the provider's own (the bookingReference its reserve
// answer gave), looked up among the provider's bookings (see resolveReference).
//
// Errors: errs.Forbidden for another provider's booking; errs.Unavailable (404 +
// Retry-After) while the booking is PENDING, and for a reference that matches none
// of the provider's bookings while a reserve call to it is in flight, since the
// provider may be asking with the reference it has not yet answered; errs.Gone for
// REJECTED and ABANDONED; errs.Conflict for a provider reference used on several
// live bookings; errs.NotFound otherwise.
func (s *Service) ForProvider(ctx context.Context, p catalog.Provider, ref string) (Booking, error) {
	b, err := s.providerBooking(ctx, p, ref)
	if err != nil {
		return Booking{}, err
	}
	switch b.State {
	case Pending:
		return Booking{}, errs.E(errs.Unavailable, "booking %s is not confirmed yet; retry in a second", ref)
	case Rejected, Abandoned:
		return Booking{}, errs.E(errs.Gone, "booking %s was not made (%s)", ref, b.State)
	}
	return b, nil
}

// providerBooking finds the booking p means by ref, in any state.
func (s *Service) providerBooking(ctx context.Context, p catalog.Provider, ref string) (Booking, error) {
	if ref == "" {
		return Booking{}, errs.E(errs.Invalid, "bookingReference: is required")
	}
	b, err, found := s.lookUpReference(ctx, p, ref)
	if found || err != nil {
		return b, err
	}
	// Not found. A reservation in flight may be the one ref names: the provider can
	// answer, and ask, before the portal has recorded its answer. That look-up must
	// come after the one above, and a second look-up after it, because the answer may
	// be recorded in between: then no reservation is pending any more, and the second
	// look-up finds the booking.
	pending, err := s.Store.HasPendingBooking(ctx, p.ID)
	if err != nil {
		return Booking{}, err
	}
	if pending {
		return Booking{}, errs.E(errs.Unavailable, "no booking with reference %q yet; a reservation with you is being recorded, retry in a second", ref)
	}
	if b, err, found := s.lookUpReference(ctx, p, ref); found || err != nil {
		return b, err
	}
	// Not one of the caller's. Another provider's portal reference is refused as such;
	// a provider reference of another provider is simply unknown to this one.
	if other, err := s.Store.BookingByReference(ctx, ref); err == nil && other.ProviderID != p.ID {
		return Booking{}, errs.E(errs.Forbidden, "booking %s belongs to another provider", ref)
	} else if err != nil && !errs.Is(err, errs.NotFound) {
		return Booking{}, err
	}
	return Booking{}, errs.E(errs.NotFound, "no booking with reference %q", ref)
}

// lookUpReference finds the booking p means by ref among p's bookings; found is
// false when none matches.
func (s *Service) lookUpReference(ctx context.Context, p catalog.Provider, ref string) (b Booking, err error, found bool) {
	matches, err := s.Store.ProviderBookings(ctx, p.ID, ref)
	if err != nil {
		return Booking{}, err, true
	}
	return resolveReference(ref, matches)
}

// resolveReference picks, among a provider's bookings whose portal reference or
// provider reference is ref (newest first), the one ref means:
//
//   - the booking whose portal reference is ref (portal references are unique);
//   - else the only booking with ref as the provider's reference;
//   - a provider that reuses its references (a seat number, say, booked again after
//     a cancellation) means the booking that is not cancelled: cancelled bookings are
//     finished, so a reused reference moves on to the live one; when all are
//     cancelled, the newest;
//   - two live bookings with the same provider reference are ambiguous: errs.Conflict,
//     so that a report never lands on the wrong student; the portal's reference
//     (trainingportalBookingReference in the reserve call) always works.
//
// found is false when nothing matches.
func resolveReference(ref string, matches []Booking) (b Booking, err error, found bool) {
	var own, live []Booking
	for _, m := range matches {
		if m.Reference == ref {
			return m, nil, true
		}
		if m.ProviderReference == ref {
			own = append(own, m)
			if m.State != Cancelled {
				live = append(live, m)
			}
		}
	}
	switch {
	case len(own) == 0:
		return Booking{}, nil, false
	case len(own) == 1:
		return own[0], nil, true
	case len(live) == 0:
		return own[0], nil, true // all cancelled: the newest
	case len(live) == 1:
		return live[0], nil, true
	}
	return Booking{}, errs.E(errs.Conflict,
		"bookingReference: your reference %q is on %d bookings that are not cancelled; use the portal's booking reference "+
			"(trainingportalBookingReference in the reserve call), or give each booking its own reference", ref, len(live)), true
}
