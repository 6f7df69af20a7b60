// Package freeaddr picks loopback addresses for servers that a test or a benchmark
// starts as separate processes and must name before they bind.
package freeaddr

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
)

// Loopback returns a 127.0.0.1 address whose port is free when it returns, picked
// outside the kernel's ephemeral port range. Every outgoing connection on the machine
// takes its local port from that range, as does a listen on port 0, so a port found
// free there (listen on :0, close) can be taken by any connection before the process
// it is meant for binds it; under load that happens. Outside the range only an
// explicit bind can take it. Where the range leaves no room, it falls back to :0.
func Loopback() (string, error) {
	lo, hi := ephemeralRange()
	var candidates [][2]int // [first, last] ports outside the range
	if lo-1 >= 20000 {
		candidates = append(candidates, [2]int{20000, min(lo-1, 32767)})
	}
	if hi+1 <= 65000 {
		candidates = append(candidates, [2]int{hi + 1, 65000})
	}
	for range 100 {
		if len(candidates) == 0 {
			break
		}
		r := candidates[rand.IntN(len(candidates))]
		addr := fmt.Sprintf("127.0.0.1:%d", r[0]+rand.IntN(r[1]-r[0]+1))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ephemeralRange is Linux's range of local ports for outgoing connections, or the
// IANA range elsewhere.
func ephemeralRange() (lo, hi int) {
	lo, hi = 49152, 65535
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var l, h int
		if n, _ := fmt.Sscan(string(b), &l, &h); n == 2 && l > 0 && h >= l {
			lo, hi = l, h
		}
	}
	return lo, hi
}
