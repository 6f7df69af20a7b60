// Package conformance holds the conformance kit: scenario suites that test
// anyone's side of the Trainingportal integration against SPEC.
//
//   - The provider suite (RunProvider) calls a provider's reserve and cancel
//     URLs as the portal calls them (SPEC §3, §5), and plays the portal's part
//     of getBookingInformation with a stand-in API v1 of its own (Portal), so
//     the provider's confirmation step can succeed.
//   - The portal suite (RunPortal) calls any implementation of the
//     course-provider API v1 (SPEC §2): this portal or the public service.
//
// Both return a Report: one Result per scenario, written as text for people
// (WriteText), as JUnit XML for CI (WriteJUnit) or as JSON (WriteJSON). Both
// remove what they create: the provider suite cancels every reservation it
// made, the portal suite cancels every class it added.
package conformance
