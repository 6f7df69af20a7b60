// Package gateway is the domain of the provider gateway: the course provider's side of
// the Trainingportal integration (SPEC §5). It holds the provider's courses, classes and
// bookings, the rules for holding and giving back seats, and the seam where a real
// provider plugs in its own booking system: the BookingSystem interface.
//
// The gateway is a second house on the same street as the portal: it shares no code
// with the portal's domain (internal/catalog, internal/booking) and talks to the portal
// only through the public SDK and the reserve and cancel URLs, as any provider's
// system would. Like the portal's domain it does no I/O: storage comes in through the
// Store interface and the clock through Reference.Now.
//
// The reference booking system is Reference, built on a Store (package gwstore). A
// provider with its own system implements BookingSystem instead; see the example.
package gateway
