package main

import (
	"strings"
	"testing"
)

func TestDefaultCountryIsChecked(t *testing.T) {
	tests := []struct {
		country string
		wantErr string // "" when accepted
	}{
		{"NO", ""},
		{"se", ""},
		{"", ""}, // the default
		{"XX", `--default-country: "XX" is not a two-letter country code`},
		{"Norway", "--default-country"},
		{"47", "--default-country"},
	}
	for _, tt := range tests {
		c := serveConfig{defaultTimeZone: "Europe/Oslo", defaultCountry: tt.country}
		err := c.check()
		if tt.wantErr == "" && err != nil {
			t.Errorf("check(--default-country %q) = %v, want accepted", tt.country, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("check(--default-country %q) = %v, want an error containing %q", tt.country, err, tt.wantErr)
		}
	}
}
