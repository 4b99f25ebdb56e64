package httpedge

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The headers a proxy in front of kinko writes: the client certificate
// (RFC 9440) and the client's address. Only a trusted proxy's are read;
// everyone else's are removed before anything sees them.
const (
	HeaderClientCert      = "Client-Cert"
	HeaderClientCertChain = "Client-Cert-Chain"
	HeaderForwardedFor    = "X-Forwarded-For"
)

// forwardingHeaders are removed from every request: read first when the
// peer is a trusted proxy, never believed from anyone else.
var forwardingHeaders = []string{HeaderClientCert, HeaderClientCertChain, HeaderForwardedFor, "Forwarded", "X-Real-Ip"}

// maxChain bounds the certificates of a Client-Cert-Chain.
const maxChain = 8

// Proxies are the addresses of the proxies kinko trusts (config
// trusted_proxies): a request whose connection comes from one of them has
// its client certificate in Client-Cert (and Client-Cert-Chain) and its
// client's address in X-Forwarded-For. The zero value trusts nobody.
type Proxies struct {
	nets []netip.Prefix
}

// ParseProxies reads CIDRs ("10.0.0.0/8") or single addresses ("10.1.2.3").
func ParseProxies(list []string) (Proxies, error) {
	var p Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if pr, err := netip.ParsePrefix(s); err == nil {
			p.nets = append(p.nets, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return Proxies{}, fmt.Errorf("httpedge: trusted proxy %q is neither a CIDR nor an address", s)
		}
		a = a.Unmap().WithZone("")
		p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

// Empty reports whether no proxy is trusted.
func (p Proxies) Empty() bool { return len(p.nets) == 0 }

// Trusts reports whether a is the address of a trusted proxy.
func (p Proxies) Trusts(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// TrustsAddr is Trusts for a net.Addr (a connection's peer).
func (p Proxies) TrustsAddr(a net.Addr) bool {
	if a == nil {
		return false
	}
	return p.Trusts(hostAddr(a.String()))
}

// forwarded is what a trusted proxy said about a request.
type forwarded struct {
	client  netip.Addr
	chain   []*x509.Certificate // Client-Cert, then Client-Cert-Chain; nil: none
	certErr error               // the Client-Cert headers could not be read
}

type forwardedKey struct{}

// Handler wraps h: a request from a trusted proxy has its forwarding
// headers read into its context (ClientAddress, PeerCertificate); from
// anyone else they are only removed. Either way h never sees them. It
// must wrap everything else that serves the listener.
func (p Proxies) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := hostAddr(r.RemoteAddr)
		if !p.Trusts(peer) {
			if hasForwarding(r.Header) {
				r = r.Clone(r.Context())
				stripForwarding(r.Header)
			}
			h.ServeHTTP(w, r)
			return
		}
		fw := &forwarded{client: p.clientOf(peer, r.Header.Values(HeaderForwardedFor))}
		fw.chain, fw.certErr = readClientCert(r.Header)
		r = r.Clone(context.WithValue(r.Context(), forwardedKey{}, fw))
		stripForwarding(r.Header)
		h.ServeHTTP(w, r)
	})
}

func hasForwarding(h http.Header) bool {
	for _, k := range forwardingHeaders {
		if _, ok := h[k]; ok {
			return true
		}
	}
	return false
}

func stripForwarding(h http.Header) {
	for _, k := range forwardingHeaders {
		h.Del(k)
	}
}

// clientOf returns the client's address from the X-Forwarded-For values:
// the right-most hop that is not a trusted proxy (each trusted proxy
// appends the address it was connected from; what lies left of the first
// untrusted one was written by the client and is not believed). When
// every hop is trusted, the left-most; when there is none, or the hop is
// not an address, the peer itself.
func (p Proxies) clientOf(peer netip.Addr, values []string) netip.Addr {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := hostAddr(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			return client
		}
		client = a
		if !p.Trusts(a) {
			return a
		}
	}
	return client
}

// errClientCert says that a trusted proxy's Client-Cert headers are not
// RFC 9440 certificates.
var errClientCert = errors.New("httpedge: Client-Cert header")

// readClientCert reads Client-Cert (one structured-field byte sequence,
// ":<base64 DER>:") and Client-Cert-Chain (a list of them); no
// Client-Cert is no certificate, and a chain without it is ignored.
func readClientCert(h http.Header) ([]*x509.Certificate, error) {
	vals := h.Values(HeaderClientCert)
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > 1 {
		return nil, fmt.Errorf("%w: more than one", errClientCert)
	}
	leaf, err := parseCertItem(vals[0])
	if err != nil {
		return nil, err
	}
	chain := []*x509.Certificate{leaf}
	for _, v := range h.Values(HeaderClientCertChain) {
		for item := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(item) == "" {
				continue
			}
			if len(chain) > maxChain {
				return nil, fmt.Errorf("%w: chain longer than %d", errClientCert, maxChain)
			}
			c, err := parseCertItem(item)
			if err != nil {
				return nil, err
			}
			chain = append(chain, c)
		}
	}
	return chain, nil
}

// parseCertItem parses one byte sequence of RFC 8941 holding a DER
// certificate.
func parseCertItem(s string) (*x509.Certificate, error) {
	s = strings.Trim(s, " \t")
	if len(s) < 2 || s[0] != ':' || s[len(s)-1] != ':' {
		return nil, fmt.Errorf("%w: not a byte sequence", errClientCert)
	}
	der, err := base64.StdEncoding.DecodeString(s[1 : len(s)-1])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errClientCert, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errClientCert, err)
	}
	return c, nil
}

// FromTrustedProxy reports whether r came on a connection from a trusted
// proxy (Proxies.Handler).
func FromTrustedProxy(r *http.Request) bool {
	_, ok := r.Context().Value(forwardedKey{}).(*forwarded)
	return ok
}

// hostAddr parses "host:port", "[v6]:port" or a bare address; an address
// that cannot be parsed is the invalid netip.Addr.
func hostAddr(s string) netip.Addr {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}
