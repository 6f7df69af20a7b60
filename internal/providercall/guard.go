package providercall

import (
	"fmt"
	"net"
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

// specialRange is one row of the SSRF guard's table.
type specialRange struct {
	prefix netip.Prefix
	what   string // how a refusal names it: "address … is <what>"
	// v4At >= 0 marks a translation prefix (NAT64, 6to4) that embeds an IPv4
	// address at that byte offset: refused only when the embedded address is.
	v4At int
}

func refuse(prefix, what string) specialRange {
	return specialRange{prefix: netip.MustParsePrefix(prefix), what: what, v4At: -1}
}

// specialRanges is the table of addresses the portal never calls (unless started with
// --allow-private-urls): the cloud metadata addresses first, for the clearer reason,
// then IANA's IPv4 and IPv6 Special-Purpose Address Registries (every entry, whether
// or not the registry marks it globally reachable: none is a course provider's
// booking system), multicast and the host's own interface addresses (checked apart).
// docs/operations.md lists the same rows; a test keeps the two alike.
var specialRanges = []specialRange{
	// Cloud metadata and platform services.
	refuse("169.254.169.254/32", "a cloud metadata address"), // AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
	refuse("169.254.170.2/32", "a cloud metadata address"),   // AWS ECS task metadata
	refuse("169.254.169.123/32", "a cloud metadata address"), // AWS time service
	refuse("168.63.129.16/32", "a cloud metadata address"),   // Azure WireServer
	refuse("100.100.100.200/32", "a cloud metadata address"), // Alibaba Cloud
	refuse("192.0.0.192/32", "a cloud metadata address"),     // Oracle Cloud (legacy)
	refuse("fd00:ec2::254/128", "a cloud metadata address"),  // AWS (IPv6)
	refuse("fd00:ec2::123/128", "a cloud metadata address"),  // AWS time service (IPv6)
	refuse("fd20:ce::254/128", "a cloud metadata address"),   // GCP (IPv6)
	// IANA IPv4 Special-Purpose Address Registry.
	refuse("0.0.0.0/8", "unspecified (\"this network\")"),
	refuse("10.0.0.0/8", "private"),
	refuse("100.64.0.0/10", "in the shared (CGNAT) range"),
	refuse("127.0.0.0/8", "loopback"),
	refuse("169.254.0.0/16", "link-local"),
	refuse("172.16.0.0/12", "private"),
	refuse("192.0.0.0/24", "reserved for IETF protocol assignments"),
	refuse("192.0.2.0/24", "reserved for documentation (TEST-NET-1)"),
	refuse("192.31.196.0/24", "reserved for AS112 DNS"),
	refuse("192.52.193.0/24", "reserved for AMT relays"),
	refuse("192.88.99.0/24", "a deprecated 6to4 relay address"),
	refuse("192.168.0.0/16", "private"),
	refuse("192.175.48.0/24", "reserved for AS112 DNS"),
	refuse("198.18.0.0/15", "reserved for benchmarking"),
	refuse("198.51.100.0/24", "reserved for documentation (TEST-NET-2)"),
	refuse("203.0.113.0/24", "reserved for documentation (TEST-NET-3)"),
	refuse("224.0.0.0/4", "multicast"),
	refuse("240.0.0.0/4", "reserved"), // includes 255.255.255.255, limited broadcast
	// IANA IPv6 Special-Purpose Address Registry (IPv4-mapped ::ffff:0:0/96 is
	// checked as the IPv4 address it maps).
	refuse("::1/128", "loopback"),
	refuse("::/128", "unspecified"),
	refuse("::/96", "reserved"), // deprecated IPv4-compatible addresses
	{prefix: netip.MustParsePrefix("64:ff9b::/96"), what: "behind NAT64", v4At: 12},
	refuse("64:ff9b:1::/48", "reserved for local IPv4/IPv6 translation"),
	refuse("100::/64", "a discard-only address"),
	refuse("100:0:0:1::/64", "a dummy address"),
	refuse("2001::/23", "reserved for IETF protocol assignments"),
	refuse("2001:db8::/32", "reserved for documentation"),
	{prefix: netip.MustParsePrefix("2002::/16"), what: "behind 6to4", v4At: 2},
	refuse("2620:4f:8000::/48", "reserved for AS112 DNS"),
	refuse("3fff::/20", "reserved for documentation"),
	refuse("5f00::/16", "reserved for segment routing (SRv6)"),
	refuse("fc00::/7", "private"),
	refuse("fe80::/10", "link-local"),
	refuse("fec0::/10", "site-local (deprecated)"),
	refuse("ff00::/8", "multicast"),
}

// interfaceAddrs lists the host's own addresses; a variable so tests can stand in.
var interfaceAddrs = net.InterfaceAddrs

// refusedRange says which refused range a holds, or "" when a may be called.
func refusedRange(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	for _, r := range specialRanges {
		if !r.prefix.Contains(a) {
			continue
		}
		if r.v4At < 0 {
			return r.what
		}
		b := a.As16()
		if inner := refusedRange(netip.AddrFrom4([4]byte(b[r.v4At : r.v4At+4]))); inner != "" {
			return inner + " (" + r.what + ")"
		}
		return ""
	}
	if isOwnAddress(a) {
		return "one of this machine's own addresses"
	}
	return ""
}

// isOwnAddress reports whether a is assigned to one of the host's interfaces, so a
// provider URL cannot reach services listening on the portal's machine by its public
// address. Interfaces change rarely, but they do: they are read at each check (a
// check happens once per new connection, not per request).
func isOwnAddress(a netip.Addr) bool {
	addrs, err := interfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		var ip net.IP
		switch v := ia.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if own, ok := netip.AddrFromSlice(ip); ok && own.Unmap() == a {
			return true
		}
	}
	return false
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
	u, err := expand(raw, params, false) // the URL as parsed, an invalid one refused there
	if err != nil {
		return err
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
