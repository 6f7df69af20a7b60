package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// TestAdminInputFollowsTheTextRule: names and ids typed at the admin command line
// are refused before the store is reached (the Service here has none) when they
// break SPEC §2's text rule, and lengths count characters.
func TestAdminInputFollowsTheTextRule(t *testing.T) {
	s := &catalog.Service{}
	ctx := context.Background()
	courses := []struct {
		name   string
		course catalog.Course
		field  string
	}{
		{"NUL in the external id", catalog.Course{Name: "Fire", ExternalID: "CP\x00"}, "external-id: "},
		{"invalid UTF-8 in the name", catalog.Course{Name: "Os\xffl", ExternalID: "CP"}, "name: "},
		{"escape in the description", catalog.Course{Name: "Fire", ExternalID: "CP", Description: "\x1b[31mred"}, "description: "},
		{"101 characters of å", catalog.Course{Name: "Fire", ExternalID: strings.Repeat("å", 101)}, "external-id: "},
	}
	for _, tc := range courses {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.AddCourse(ctx, "acme", tc.course)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("AddCourse: %v, want an invalid-input error naming %q", err, tc.field)
			}
		})
	}
	t.Run("100 characters of å are fine as far as the rules go", func(t *testing.T) {
		defer func() { _ = recover() }() // valid input goes on to the (absent) store
		_, err := s.AddCourse(ctx, "acme", catalog.Course{Name: "Fire", ExternalID: strings.Repeat("å", 100)})
		if errs.Is(err, errs.Invalid) {
			t.Fatalf("AddCourse refused a valid id: %v", err)
		}
	})
	t.Run("NUL in a provider's name", func(t *testing.T) {
		_, err := s.AddProvider(ctx, catalog.Provider{Name: "Nordic\x00", Username: "nordic"})
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "name: ") {
			t.Fatalf("AddProvider: %v, want an invalid-input error naming name", err)
		}
	})
}

func TestUsernameFor(t *testing.T) {
	for name, want := range map[string]string{
		"Acme Safety AS":        "acme-safety-as",
		"  Nord--Kurs!  ":       "nord-kurs",
		"Ærø Sikkerhet":         "r-sikkerhet",
		"!!!":                   "",
		strings.Repeat("a", 70): strings.Repeat("a", 64),
	} {
		if got := catalog.UsernameFor(name); got != want {
			t.Errorf("UsernameFor(%q) = %q, want %q", name, got, want)
		}
	}
}
