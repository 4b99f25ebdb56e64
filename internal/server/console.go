package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// The operator console is a TLS listener of its own for the bank's
// operators: the handshake requires a client certificate of the operator
// CA (pki.OperatorCA), never of the client-issuing CA, so a customer's
// certificate cannot even open a connection, and an operator's cannot open
// one on the certificate portal. Behind a proxy, the console's connections
// are passed through (TCP): it takes no forwarded certificate.

// ConsoleCheck is the check of an operator's certificate that every
// console handshake runs once its chain to the operator CA is verified: nil
// for the exact certificate recorded for active staff (by fingerprint,
// unrevoked, unexpired), an error otherwise, which fails the handshake.
type ConsoleCheck func(context.Context, *x509.Certificate) error

// ConsoleTLSConfig is the console's TLS configuration: TLS 1.2+ with AEAD
// suites only (AEADCipherSuites); a client certificate required and
// verified for clientAuth against operatorCAs (the operator CA alone);
// then VerifyConnection, which runs on resumed connections too, verifies
// the chain again at now (a resumed session's certificate may have expired
// or come from elsewhere) and calls check, whose refusal fails the
// handshake.
func ConsoleTLSConfig(cert tls.Certificate, operatorCAs *x509.CertPool, now func() time.Time, check ConsoleCheck) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: AEADCipherSuites,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    operatorCAs,
		Time:         now,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("%sno operator certificate", untrustedPrefix)
			}
			leaf := cs.PeerCertificates[0]
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: operatorCAs, Intermediates: inter, CurrentTime: now(),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				return fmt.Errorf("%soperator %q: %w", untrustedPrefix, leaf.Subject.CommonName, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := check(ctx, leaf); err != nil {
				return fmt.Errorf("%soperator %q serial %x: %w", unknownPrefix, leaf.Subject.CommonName, leaf.SerialNumber, err)
			}
			return nil
		},
	}
}

// consoleContentSecurityPolicy is the portals' policy (web's): only the
// bank's own scripts, styles and images, no inline code, no framing, forms
// only to the console.
const consoleContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// consoleHeaders sets the strict headers of the portals' pages on every
// console response (the server adds HSTS, X-Frame-Options and
// Referrer-Policy for every listener): the content security policy, no
// type sniffing, and no caching of what operators see.
func consoleHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", consoleContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// errNoConsole says that a server has a console listener but nothing to
// serve on it.
var errNoConsole = errors.New("server: a console listener without a console (Parts.Console)")

// ConsoleAddr returns the console listener's bound address; nil without
// one.
func (s *Server) ConsoleAddr() net.Addr {
	if s.ln.Console == nil {
		return nil
	}
	return s.ln.Console.Addr()
}

// ConsoleURL returns the console's address as operators reach it
// (Parts.ConsoleURL, or one made from the bound address like the portals'
// URLs); "" without a console listener.
func (s *Server) ConsoleURL() string { return s.consoleURL }
