package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestSetServingGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tests := []struct {
		name, gogc string
		set        bool
		want       int
	}{
		{"GOGC unset: the serving default", "", false, servingGCPercent},
		{"GOGC empty: the serving default", "", true, servingGCPercent},
		// The runtime reads GOGC at start; the test stands in for it by setting the
		// percentage the variable would have set.
		{"GOGC set: left alone", "200", true, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set {
				t.Setenv("GOGC", tt.gogc)
			} else {
				t.Setenv("GOGC", "")
				os.Unsetenv("GOGC") // t.Setenv restores it after the test
			}
			if tt.set && tt.gogc != "" {
				debug.SetGCPercent(200)
			} else {
				debug.SetGCPercent(100)
			}
			if got := setServingGC(); got != tt.want {
				t.Errorf("setServingGC() = %d, want %d", got, tt.want)
			}
			if got := debug.SetGCPercent(100); got != tt.want {
				t.Errorf("GC percent in effect = %d, want %d", got, tt.want)
			}
		})
	}
}
