package courseprovider_test

import (
	"net/http"
	"testing"

	"github.com/tportal/tportal/internal/api/openapi/openapitest"
)

// validatingClient returns an HTTP client that checks every request this suite sends
// and every answer it gets against the OpenAPI description; a mismatch fails t.
func validatingClient(t testing.TB) *http.Client {
	return &http.Client{Transport: openapitest.Transport(t, nil)}
}
