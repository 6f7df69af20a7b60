package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// servingGCPercent is the garbage collector's target for `tportal serve` when GOGC
// is not set: the heap may grow to 1.75 times the live data between collections
// instead of Go's default 2 times. It trades one goal against another
// (docs/benchmarks.md, "Issue 11, seventh session: the collector's target"): under
// the load benchmark at 64 clients the SQLite peak RSS was 52–53 MiB at 50, 54 MiB
// at 75 and 57–58 MiB at Go's 100, against a goal of 60 MB (57.2 MiB); a booking
// cost 810, 740 and 690 µs of CPU. GOGC overrides it.
const servingGCPercent = 75

// setServingGC applies servingGCPercent unless the operator set GOGC, and reports
// the percentage in effect.
func setServingGC() int {
	if v, set := os.LookupEnv("GOGC"); set && v != "" {
		old := debug.SetGCPercent(100) // read the value the runtime took from GOGC
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(servingGCPercent)
	return servingGCPercent
}

// setHeapProfiling turns the runtime's heap profiling off when nothing can read it:
// tportal serves the heap profile only on the --debug-addr listener. With Go's default
// rate the runtime records the call stack of one allocation per 512 KiB, each distinct
// stack in a bucket of its own, looked up in a 1.4 MB hash table; under the load
// benchmark at 64 clients those took 0.6–0.9 MiB of the peak RSS for profiles nobody
// could fetch (docs/benchmarks.md, "Peak memory at c = 64"). GODEBUG=memprofilerate=N
// is left alone. It reports the rate in effect.
func setHeapProfiling(served bool) int {
	if !served && !godebugSets(os.Getenv("GODEBUG"), "memprofilerate") {
		runtime.MemProfileRate = 0
	}
	return runtime.MemProfileRate
}

// godebugSets reports whether the GODEBUG value godebug (key=value pairs separated by
// commas) sets key.
func godebugSets(godebug, key string) bool {
	for kv := range strings.SplitSeq(godebug, ",") {
		if k, _, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == key {
			return true
		}
	}
	return false
}
