package freeaddr

import (
	"net"
	"strconv"
	"testing"
)

// The port is free and outside the range outgoing connections take their ports from.
func TestLoopbackIsOutsideTheEphemeralRange(t *testing.T) {
	lo, hi := ephemeralRange()
	for range 20 {
		addr, err := Loopback()
		if err != nil {
			t.Fatal(err)
		}
		host, portText, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(portText)
		if host != "127.0.0.1" || (port >= lo && port <= hi) {
			t.Errorf("Loopback() = %s, want 127.0.0.1 and a port outside %d–%d", addr, lo, hi)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		ln.Close()
	}
}
