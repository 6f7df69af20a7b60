package storetest

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time this process has used, user and system: benchmarks
// divide its growth by b.N for a cpu-µs/op that counts every goroutine's work (a
// background checkpoint's too), which the shared machine's load disturbs less than
// the wall time.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
