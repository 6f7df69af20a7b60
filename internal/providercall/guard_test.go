package providercall

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// Every row of the guard's table refuses the first and the last address of its
// prefix, and the addresses just outside it are judged by the other rows alone.
func TestSpecialRanges(t *testing.T) {
	for _, r := range specialRanges {
		t.Run(r.prefix.String(), func(t *testing.T) {
			first, last := r.prefix.Masked().Addr(), lastAddr(r.prefix)
			for _, a := range []netip.Addr{first, last} {
				if r.v4At >= 0 {
					// A translation prefix refuses what it embeds when that is refused.
					b := a.As16()
					copy(b[r.v4At:], []byte{127, 0, 0, 1})
					a = netip.AddrFrom16(b)
				}
				err := CheckURL("http://"+hostOf(a)+"/r", false)
				var refused *RefusedError
				if !errors.As(err, &refused) {
					t.Fatalf("CheckURL(%s) = %v, want it refused as %q", a, err, r.what)
				}
				if !coveredEarlier(r, a) && !strings.Contains(refused.Range, r.what) {
					t.Errorf("CheckURL(%s) refused as %q, want %q", a, refused.Range, r.what)
				}
				if err := CheckURL("http://"+hostOf(a)+"/r", true); err != nil {
					t.Errorf("CheckURL(%s) with --allow-private-urls = %v, want nil", a, err)
				}
				if err := dialControl(false)("tcp", netip.AddrPortFrom(a, 443).String(), nil); err == nil {
					t.Errorf("dial %s not refused", a)
				}
			}
		})
	}
}

// Addresses the issue saw called or accepted, and public neighbours of the ranges.
func TestGuardExamples(t *testing.T) {
	for _, tt := range []struct {
		addr    string
		refused bool
	}{
		{"198.51.100.7", true}, {"203.0.113.1", true}, {"198.18.0.1", true}, {"198.19.255.255", true},
		{"192.0.0.1", true}, {"192.0.2.2", true}, {"2001:db8::1", true}, {"100::1", true}, {"fec0::1", true},
		{"168.63.129.16", true}, {"64:ff9b:1::1", true}, {"::ffff:198.51.100.7", true},
		{"64:ff9b::c633:6407", true}, // 198.51.100.7 behind NAT64
		{"198.17.255.255", false}, {"198.20.0.0", false}, {"203.0.114.0", false}, {"168.63.129.17", false},
		{"8.8.8.8", false}, {"2001:4860:4860::8888", false}, {"64:ff9b::808:808", false}, {"2002:808:808::", false},
	} {
		err := CheckURL("http://"+hostOf(netip.MustParseAddr(tt.addr))+"/r", false)
		if (err != nil) != tt.refused {
			t.Errorf("CheckURL(%s) = %v, want refused %v", tt.addr, err, tt.refused)
		}
	}
}

// The host's own addresses are refused even when they are public.
func TestOwnAddressesRefused(t *testing.T) {
	own := netip.MustParseAddr("93.184.216.34")
	orig := interfaceAddrs
	interfaceAddrs = func() ([]net.Addr, error) {
		return []net.Addr{&net.IPNet{IP: net.IP(own.AsSlice()), Mask: net.CIDRMask(24, 32)}}, nil
	}
	defer func() { interfaceAddrs = orig }()
	if err := CheckURL("http://93.184.216.34/r", false); err == nil || !strings.Contains(err.Error(), "this machine's own addresses") {
		t.Errorf("own address: %v", err)
	}
	if err := CheckURL("http://93.184.216.35/r", false); err != nil {
		t.Errorf("a neighbour of the own address: %v", err)
	}
	if err := dialControl(false)("tcp", "93.184.216.34:443", nil); err == nil {
		t.Error("dial to the own address not refused")
	}
}

// docs/operations.md lists every row of the table.
func TestSpecialRangesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range specialRanges {
		if !strings.Contains(string(doc), "`"+r.prefix.String()+"`") {
			t.Errorf("docs/operations.md does not list `%s` (%s)", r.prefix, r.what)
		}
	}
}

// coveredEarlier reports whether a row before r also holds a (::1 is in ::/96 too),
// so that row's reason is the one given.
func coveredEarlier(r specialRange, a netip.Addr) bool {
	for _, e := range specialRanges {
		if e == r {
			return false
		}
		if e.prefix.Contains(a) {
			return true
		}
	}
	return false
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func hostOf(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}
