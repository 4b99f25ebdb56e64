package httpedge

import (
	"net/http"
	"net/netip"
)

// ClientAddress returns the address of the client that made the request,
// as throttling, the record of failed logins and the logs know it: the
// connection's peer address (which the PROXY protocol of a trusted proxy
// has already made the client's), or, when the peer is a trusted proxy
// (Proxies.Handler), the right-most untrusted hop of its X-Forwarded-For.
// Nothing else a client writes in a header is believed. IPv4 addresses
// come back in their 4-byte form; an address that cannot be parsed is the
// invalid netip.Addr, which throttling treats as one client.
func ClientAddress(r *http.Request) netip.Addr {
	if fw, ok := r.Context().Value(forwardedKey{}).(*forwarded); ok {
		return fw.client
	}
	return hostAddr(r.RemoteAddr)
}
