package server

import (
	"net"
	"testing"
)

// TestHardening_ListenerURLFromTheBoundAddressOrServerName: the pages'
// default addresses come from the listener's bound address, or from the
// first server name when it listens on every address; never from a
// request.
func TestHardening_ListenerURLFromTheBoundAddressOrServerName(t *testing.T) {
	names := []string{"ib.example.jp", "127.0.0.1"}
	cases := []struct {
		addr  net.Addr
		names []string
		want  string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}, names, "https://127.0.0.1:8443"},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 443}, names, "https://192.0.2.7"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8444}, names, "https://[::1]:8444"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 443}, names, "https://[::1]"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8443}, names, "https://ib.example.jp:8443"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 443}, names, "https://ib.example.jp"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8443}, nil, "https://localhost:8443"},
	}
	for _, c := range cases {
		if got := listenerURL(c.addr, c.names); got != c.want {
			t.Errorf("listenerURL(%v, %v) = %q, want %q", c.addr, c.names, got, c.want)
		}
	}
}
