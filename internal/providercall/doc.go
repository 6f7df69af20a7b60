// Package providercall makes the portal's outgoing calls to course providers: the
// synchronous GET to a provider's reserve URL and cancel URL (SPEC §3).
//
// A provider is another company's web server, so every call is treated as
// untrusted and unreliable: it has a connect and a total timeout, the answer is
// read with a size limit and a tolerant reader (JSON or XML, whatever the headers
// say), the target address is checked against an SSRF guard at dial time, and
// every call, answered or not, is written to the call journal and counted in
// metrics so portal staff can see what each provider did.
//
// The package also holds the request-signing scheme shared with the provider
// gateway (Sign, Verify), so both sides of the integration use one definition.
package providercall
