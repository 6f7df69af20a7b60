package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/httpapi"
)

// roomSystem is a toy adapter: a provider's own booking system (here, a map of rooms
// with seats) behind the gateway's BookingSystem interface. A real adapter calls the
// provider's system instead, and maps its refusals to errs codes so that the enroller
// reads them.
type roomSystem struct {
	mu       sync.Mutex
	free     map[string]int              // class id -> free seats
	bookings map[string]*gateway.Booking // provider reference -> booking
	byPortal map[string]string           // portal reference -> provider reference
}

func (s *roomSystem) Reserve(_ context.Context, r gateway.ReserveRequest) (gateway.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref, ok := s.byPortal[r.PortalReference]; ok { // a repeated call: same answer, no second seat
		return *s.bookings[ref], nil
	}
	free, ok := s.free[r.ClassID]
	switch {
	case !ok:
		return gateway.Booking{}, errs.E(errs.NotFound, "unknown class %s", r.ClassID)
	case free == 0:
		return gateway.Booking{}, errs.E(errs.Conflict, "class %s is sold out", r.ClassID)
	}
	s.free[r.ClassID]--
	ref := strconv.Itoa(1000 + len(s.bookings) + 1)
	s.bookings[ref] = &gateway.Booking{Reference: ref, PortalReference: r.PortalReference, ClassID: r.ClassID, Status: gateway.Held}
	s.byPortal[r.PortalReference] = ref
	return *s.bookings[ref], nil
}

func (s *roomSystem) Cancel(_ context.Context, r gateway.CancelRequest) (gateway.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := r.Reference
	if ref == "" {
		ref = s.byPortal[r.PortalReference]
	}
	b, ok := s.bookings[ref]
	if !ok {
		return gateway.Booking{}, errs.E(errs.NotFound, "no booking %s", ref)
	}
	if b.Status.HoldsSeat() {
		s.free[b.ClassID]++
	}
	b.Status = gateway.Cancelled
	return *b, nil
}

func (s *roomSystem) set(ref string, st gateway.Status) (gateway.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bookings[ref]
	if !ok {
		return gateway.Booking{}, errs.E(errs.NotFound, "no booking %s", ref)
	}
	if b.Status.HoldsSeat() && !st.HoldsSeat() {
		s.free[b.ClassID]++
	}
	b.Status = st
	return *b, nil
}

func (s *roomSystem) Confirm(_ context.Context, ref string) (gateway.Booking, error) {
	return s.set(ref, gateway.Confirmed)
}

func (s *roomSystem) Release(_ context.Context, ref, _ string) (gateway.Booking, error) {
	return s.set(ref, gateway.Released)
}

func (s *roomSystem) Booking(_ context.Context, ref string) (gateway.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bookings[ref]; ok {
		return *b, nil
	}
	return gateway.Booking{}, errs.E(errs.NotFound, "no booking %s", ref)
}

func (s *roomSystem) Classes(context.Context) ([]gateway.Class, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []gateway.Class
	for id, free := range s.free {
		out = append(out, gateway.Class{CourseID: "BST", ID: id, FreeSeats: free})
	}
	return out, nil
}

// A provider plugs its own booking system into the gateway by implementing
// BookingSystem; the gateway's reserve and cancel URLs then run on it unchanged.
func Example_ownBookingSystem() {
	var sys gateway.BookingSystem = &roomSystem{
		free:     map[string]int{"OSL-W40": 1},
		bookings: map[string]*gateway.Booking{},
		byPortal: map[string]string{},
	}
	mux := http.NewServeMux()
	httpapi.New(sys, httpapi.Options{}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, path := range []string{
		"/reserve?externalCourseClassId=OSL-W40&trainingportalBookingReference=tp-1",
		"/reserve?externalCourseClassId=OSL-W40&trainingportalBookingReference=tp-1", // repeated
		"/reserve?externalCourseClassId=OSL-W40&trainingportalBookingReference=tp-2",
		"/cancel?bookingReference=1001&trainingportalBookingReference=tp-1",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(string(body))
	}
	// Output:
	// {"successful":true,"bookingReference":"1001","errorMessage":""}
	// {"successful":true,"bookingReference":"1001","errorMessage":""}
	// {"successful":false,"bookingReference":"","errorMessage":"class OSL-W40 is sold out"}
	// {"cancelled":true,"errorMessage":""}
}
