package storetest

import (
	"os"
	"strconv"
	"strings"
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

// ReadSyscalls is how many read system calls this process has made (syscr in
// /proc/self/io, Linux), and false where that is not known. On SQLite they are
// mostly the page reads of connections whose page cache another connection's
// commit made stale, which CPU figures alone do not show.
func ReadSyscalls() (int64, bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "syscr:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
