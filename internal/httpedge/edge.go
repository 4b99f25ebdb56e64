// Package httpedge is what kinko's HTTP edges share: the JSON API
// (package api), the pages (package web) and the CA's public objects
// (package pkihttp). It knows which listener a request came to, the session
// cookies, the connection's client certificate, the session middleware that
// puts the request's principal in its context, and the one table that maps
// an error to an HTTP status, a stable error code and the catalogue key of
// its message. It decides no rule of the bank: those stay in auth, certs,
// identity and banking; and it never shows the text of an error to a user,
// only the catalogue's message for it.
package httpedge

import (
	"crypto/x509"
	"net/http"
	"strconv"
	"time"
)

// Listener says which listener a handler serves.
type Listener int

// Listeners.
const (
	Portal     Listener = iota // ID + password; never asks for a client certificate
	CertPortal                 // client certificate required
	Console                    // the bank's operator console: an operator's certificate required in the handshake
)

// Cookie names: one per listener, because cookies do not separate ports.
const (
	PortalCookie     = "__Host-kinko-session"
	CertPortalCookie = "__Host-kinko-cert-session"
	ConsoleCookie    = "__Host-kinko-console-session"
)

// SessionCookie returns the name of the listener's session cookie.
func (l Listener) SessionCookie() string {
	switch l {
	case CertPortal:
		return CertPortalCookie
	case Console:
		return ConsoleCookie
	}
	return PortalCookie
}

// SetSession sets the listener's session cookie to token: host-only,
// secure, out of scripts' reach, sent on same-site requests only.
func (l Listener) SetSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: l.SessionCookie(), Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// ClearSession removes the listener's session cookie.
func (l Listener) ClearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: l.SessionCookie(), Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// PeerCertificate returns the client certificate of a request to the
// certificate portal or the console, nil otherwise: the portal never asks
// for one, so whatever arrives there is not a credential. It is the first
// of PeerChain.
func (l Listener) PeerCertificate(r *http.Request) *x509.Certificate {
	chain, err := l.PeerChain(r)
	if err != nil || len(chain) == 0 {
		return nil
	}
	return chain[0]
}

// PeerChain returns the client certificate of a request to the
// certificate portal and the certificates sent with it, leaf first; none
// on the portal. On a connection from a trusted proxy (Proxies.Handler)
// they are the proxy's Client-Cert and Client-Cert-Chain (RFC 9440), and
// an error says the proxy sent something that is not a certificate; a
// certificate of that connection's own handshake is the proxy's, not a
// client's, and is never returned. On any other connection they are the
// TLS handshake's, whose chain to the client-issuing CA the certificate
// portal's VerifyConnection has verified (crypto/tls does not, with
// RequestClientCert, so VerifiedChains is empty); a header that claims to
// carry a certificate was removed before anything read it. A proxy's
// certificate gets the same checks (server.VerifyForwarded). Whether the
// bank issued this very certificate, and whether it is still good, is
// auth's check by fingerprint.
//
// On the console they are always the TLS handshake's, which the console's
// listener required and verified against the operator CA: the console
// takes no forwarded certificate, from a trusted proxy or anyone else (a
// proxy in front of it passes the TCP connection through), and never reads
// a Client-Cert header.
func (l Listener) PeerChain(r *http.Request) ([]*x509.Certificate, error) {
	switch l {
	case CertPortal:
		if fw, ok := r.Context().Value(forwardedKey{}).(*forwarded); ok {
			return fw.chain, fw.certErr
		}
	case Console:
	default:
		return nil, nil
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, nil
	}
	return r.TLS.PeerCertificates, nil
}

// SetRetryAfter sets Retry-After to the seconds from now until reopens
// (rounded up, at least 1), when there is a reopening.
func SetRetryAfter(w http.ResponseWriter, now, reopens time.Time) {
	if reopens.IsZero() {
		return
	}
	secs := int64((reopens.Sub(now) + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
}

// RefuseFunc answers a request with the refusal of err.
type RefuseFunc func(w http.ResponseWriter, r *http.Request, err error)

// HandlerFunc is a handler that returns an error instead of answering it:
// the one wrapper, Handle, turns the error into the edge's answer.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle returns f as an http.HandlerFunc whose error, if any, is answered
// by refuse. f must not have written anything when it returns an error.
func Handle(f HandlerFunc, refuse RefuseFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			refuse(w, r, err)
		}
	}
}

// ProtectCrossOrigin wraps h in http.CrossOriginProtection: a non-GET
// request that a browser says comes from another site is answered by
// refuse with ErrCrossOrigin before h sees it.
func ProtectCrossOrigin(h http.Handler, refuse RefuseFunc) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse(w, r, ErrCrossOrigin)
	}))
	return cop.Handler(h)
}
