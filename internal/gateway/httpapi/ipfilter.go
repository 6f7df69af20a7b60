package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// IPFilter admits calls from listed networks only. The caller's address is the
// connection's peer; only when the peer is a trusted proxy is it taken from the
// proxy's header instead (the right-most address in it that is not itself a trusted
// proxy), so a caller cannot choose its address by sending the header itself.
type IPFilter struct {
	allow   []netip.Prefix
	header  string
	proxies []netip.Prefix
}

// NewIPFilter returns a filter admitting the CIDRs (or single addresses) in allow.
// header names the proxy header to read ("" for none, e.g. "X-Forwarded-For"), and
// proxies the CIDRs of the proxies trusted to set it (loopback when empty).
func NewIPFilter(allow []string, header string, proxies []string) (*IPFilter, error) {
	f := &IPFilter{header: http.CanonicalHeaderKey(strings.TrimSpace(header))}
	var err error
	if f.allow, err = parsePrefixes(allow); err != nil {
		return nil, err
	}
	if len(f.allow) == 0 {
		return nil, fmt.Errorf("the IP filter needs at least one allowed network")
	}
	if f.proxies, err = parsePrefixes(proxies); err != nil {
		return nil, err
	}
	if len(f.proxies) == 0 {
		f.proxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	return f, nil
}

func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if !strings.Contains(s, "/") {
				a, err := netip.ParseAddr(s)
				if err != nil {
					return nil, fmt.Errorf("%q is neither a CIDR like 192.0.2.0/24 nor an address", s)
				}
				out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a CIDR like 192.0.2.0/24 nor an address", s)
			}
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

func contains(list []netip.Prefix, a netip.Addr) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the caller's address as the filter sees it.
func (f *IPFilter) Client(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	peer = peer.Unmap()
	if f.header == "" || !contains(f.proxies, peer) {
		return peer, true
	}
	values := r.Header.Values(f.header)
	if len(values) == 0 {
		return peer, true
	}
	hops := strings.Split(strings.Join(values, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false // a mangled header: admit nobody through it
		}
		a = a.Unmap()
		if !contains(f.proxies, a) {
			return a, true
		}
	}
	return peer, true
}

// Allows reports whether the caller of r may call, and the address it judged.
func (f *IPFilter) Allows(r *http.Request) (string, bool) {
	a, ok := f.Client(r)
	if !ok {
		return "an unreadable address", false
	}
	return a.String(), contains(f.allow, a)
}
