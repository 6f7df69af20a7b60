// Package openapi holds the OpenAPI 3.1 description of the portal's two HTTP APIs, the
// course-provider API v1 (under both of its base paths) and the booking API /api/v1,
// embedded in the binary and served beside them, so that a provider can import it
// into Postman or a code generator.
//
// The description is written from the contract (SPEC §2–§4), not generated from the
// code. The API test suites validate every request and answer they make against it
// (see package openapitest), and a test checks that it lists every route the portal
// registers, so the two cannot drift apart.
package openapi

import (
	_ "embed"
	"net/http"
)

// Document is the OpenAPI 3.1 description, as JSON.
//
//go:embed openapi.json
var Document []byte

// Path is where each API serves the description, relative to its base path.
const Path = "openapi.json"

// Handler serves the description as JSON.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Access-Control-Allow-Origin", "*") // so browser-based tools can import it
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(Document)
	})
}
