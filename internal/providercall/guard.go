package providercall

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// RefusedError says that a call's target address is in a range the portal
// does not call (SSRF guard). It is returned by CheckURL and, wrapped, by
// calls whose host resolves to such an address.
type RefusedError struct {
	Addr  netip.Addr
	Range string // "loopback", "private", "a cloud metadata address", ...
}

// Error implements error.
func (e *RefusedError) Error() string { return "providercall: " + e.reason() }

func (e *RefusedError) reason() string {
	return fmt.Sprintf("address %s is %s; refused (start with --allow-private-urls to allow)", e.Addr, e.Range)
}

var (
	metadataV4 = netip.MustParseAddr("169.254.169.254")
	metadataV6 = netip.MustParseAddr("fd00:ec2::254")

	// Ranges beyond what netip's predicates cover.
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	reserved4 = netip.MustParsePrefix("240.0.0.0/4") // includes 255.255.255.255
	v4compat  = netip.MustParsePrefix("::/96")       // deprecated IPv4-compatible IPv6
	// Prefixes that embed an IPv4 address the packet may end up at.
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64Loc  = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// refusedRange says which refused range a holds, or "" when a may be called.
func refusedRange(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	switch {
	case a == metadataV4 || a == metadataV6:
		return "a cloud metadata address"
	case a.IsLoopback():
		return "loopback"
	case a.IsUnspecified() || thisNet.Contains(a):
		return "unspecified"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return "multicast"
	case a.IsPrivate():
		return "private"
	case cgnat.Contains(a):
		return "in the shared (CGNAT) range"
	case reserved4.Contains(a) || v4compat.Contains(a):
		return "reserved"
	case nat64.Contains(a) || nat64Loc.Contains(a):
		b := a.As16()
		if r := refusedRange(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return r + " (behind NAT64)"
		}
	case sixToFour.Contains(a):
		b := a.As16()
		if r := refusedRange(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
			return r + " (behind 6to4)"
		}
	}
	return ""
}

func checkAddr(a netip.Addr, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	if r := refusedRange(a); r != "" {
		return &RefusedError{Addr: a.Unmap().WithZone(""), Range: r}
	}
	return nil
}

// dialControl is the net.Dialer Control hook: it sees the resolved address
// right before connecting, so neither DNS names nor DNS rebinding can lead a
// call to a refused address.
func dialControl(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("providercall: unexpected dial address %q", address)
		}
		return checkAddr(ap.Addr(), allowPrivate)
	}
}

// checkTarget checks a URL about to be called: http or https, a host, and a
// literal IP outside the refused ranges. Host names are checked at dial time.
func checkTarget(u *url.URL, allowPrivate bool) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return fmt.Errorf("providercall: URL %q is not absolute; only http and https URLs are called", RedactURL(u.String()))
		}
		return fmt.Errorf("providercall: URL scheme %q is not allowed; only http and https", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("providercall: URL %q has no host", RedactURL(u.String()))
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return checkAddr(a, allowPrivate)
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") && !allowPrivate {
		// localhost resolves to loopback everywhere; say so before dialling.
		return &RefusedError{Addr: netip.MustParseAddr("127.0.0.1"), Range: "loopback"}
	}
	return nil
}

// CheckURL validates a provider URL at registration time: http or https only,
// a host present, placeholders (if it is a template) known and outside the
// host, and a literal IP address outside the loopback, private, link-local,
// CGNAT, multicast and metadata ranges unless allowPrivate. Host names are
// checked again on every call, after resolution.
func CheckURL(raw string, allowPrivate bool) error {
	return checkTemplate(raw, allParams(), allowPrivate)
}

// CheckTemplate is CheckURL for the URL of one kind of call: it also refuses
// placeholders that kind of call has no value for, such as
// {providerBookingReference} in a reserve URL.
func CheckTemplate(kind Kind, raw string, allowPrivate bool) error {
	switch kind {
	case KindReserve:
		return checkTemplate(raw, sampleValues(reserveParams(ReserveRequest{})), allowPrivate)
	case KindCancel:
		return checkTemplate(raw, sampleValues(cancelParams(CancelRequest{})), allowPrivate)
	}
	return fmt.Errorf("providercall: unknown kind of call %q", kind)
}

func checkTemplate(raw string, params []Param, allowPrivate bool) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("providercall: URL is empty")
	}
	s, err := expand(raw, params, false)
	if err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("providercall: invalid URL %q: %v", redactString(raw), unwrapURLError(err))
	}
	return checkTarget(u, allowPrivate)
}

func allParams() []Param {
	return sampleValues(append(reserveParams(ReserveRequest{}), cancelParams(CancelRequest{})...))
}

// sampleValues fills params with a stand-in value so a template can be
// expanded for checking.
func sampleValues(ps []Param) []Param {
	for i := range ps {
		ps[i].Value = "x"
	}
	return ps
}
