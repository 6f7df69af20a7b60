// Package tpclient is a Go client for the Trainingportal course-provider API v1: the
// calls a course provider makes to keep its catalogue up to date and to report on
// bookings.
//
// The same client works against the public service and against a tportal portal;
// only the base URL differs:
//
//	c, err := tpclient.New("https://www.trainingportal.no/mintra/api/courseprovider/rest/", user, password)
//	c, err := tpclient.New("http://localhost:8080/api/courseprovider/rest/", user, password)
//
// Every method takes a [context.Context] first and sends its parameters, the
// credentials included, as form fields of a POST, the documented way. Answers are
// read as JSON, or as XML with [WithXML].
//
// # Tolerant reader
//
// The public documentation spells several things in two ways and asks clients to be
// tolerant readers. The client accepts both spellings of every known quirk:
// "successful" and "sucessful", booleans as true or "true", "firstName" and
// "firstname" (any letter case of a field name), "erollmentDeadline" and
// "enrollmentDeadline", address and price fields nested or bare, and it ignores fields
// it does not know. Prices are kept as the exact decimal string the server sent,
// never as a float.
//
// # Errors
//
// A call the server refuses returns an [*APIError] with the HTTP status and the
// server's errorMessage. It matches one of the sentinel errors with [errors.Is]:
//
//	if errors.Is(err, tpclient.ErrNotFound) { … }
//
// Errors never contain the password.
//
// # Retries
//
// Calls that are safe to repeat (reads, updateClass, updateBookingStatus) are retried
// on 429, 502, 503, 504 and network errors, with exponential backoff and full jitter,
// honouring Retry-After. BookingInformation also retries a 404 that carries
// Retry-After: the portal's answer while its reserve call to the provider is still in
// flight. Calls that are not safe to repeat (addClass, cancelClass, restoreClass,
// uploadDocumentation) are retried only when the server cannot have acted on them: on
// 429, and when the request was never sent. [WithRetries] sets the number of retries
// (default 3; 0 disables them). Waiting stops when the context is done.
package tpclient
