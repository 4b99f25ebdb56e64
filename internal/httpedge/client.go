package httpedge

import (
	"net"
	"net/http"
	"net/netip"
)

// ClientAddress returns the address of the client that made the request,
// as throttling and the record of failed logins know it: the connection's
// peer address. (Behind trusted proxies it will be the address the proxy
// vouches for; nothing a client writes in a header is believed.) IPv4
// addresses come back in their 4-byte form; an address that cannot be
// parsed is the invalid netip.Addr, which throttling treats as one client.
func ClientAddress(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}
