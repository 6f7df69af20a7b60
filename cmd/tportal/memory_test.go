package main

import (
	"os"
	"runtime"
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

func TestSetHeapProfiling(t *testing.T) {
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	const goDefault = 512 * 1024
	tests := []struct {
		name    string
		served  bool
		godebug string
		want    int
	}{
		{"no --debug-addr: off", false, "", 0},
		{"no --debug-addr, other GODEBUG settings: off", false, "gctrace=1,madvdontneed=1", 0},
		{"--debug-addr: left on", true, "", goDefault},
		// The runtime reads GODEBUG at start; the test stands in for it by leaving
		// the rate the variable would have set.
		{"GODEBUG=memprofilerate: left alone", false, "gctrace=0, memprofilerate=4096", goDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GODEBUG", tt.godebug)
			runtime.MemProfileRate = goDefault
			if got := setHeapProfiling(tt.served); got != tt.want {
				t.Errorf("setHeapProfiling(%v) = %d, want %d", tt.served, got, tt.want)
			}
			if runtime.MemProfileRate != tt.want {
				t.Errorf("MemProfileRate = %d, want %d", runtime.MemProfileRate, tt.want)
			}
		})
	}
}
