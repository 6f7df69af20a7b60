package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// servingGCPercent is the garbage collector's target for `tportal serve` when GOGC
// is not set: the heap may grow to 1.5 times the live data between collections
// instead of Go's default 2 times. Under the load benchmark at 64 clients it kept the
// peak RSS under 60 MB on SQLite (59.6 → 55.9 MiB) at no measurable cost in CPU per
// request (docs/benchmarks.md, "Peak memory at c = 64"); GOGC overrides it.
const servingGCPercent = 50

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
