// Package pkihttp serves the certificate authority's public objects over
// HTTP: the CRL (GET /pki/crl), OCSP (POST /pki/ocsp, and GET
// /pki/ocsp/{base64 request} of RFC 6960 appendix A) and the CA chain
// (GET /pki/ca.pem). They are signed or public, so it asks for no session
// and no certificate; it is mounted on the portal and on the plain-HTTP PKI
// listener. It decides nothing: the answers are certs.Revocations'.
package pkihttp

import (
	"log/slog"
	"net/http"
	"strings"

	"kinko/internal/certs"
	"kinko/internal/httpedge"
)

// Prefix is the path under which the CA's objects are served.
const Prefix = "/pki/"

// Config holds the handler's dependencies.
type Config struct {
	// CAChain is the PEM of the client-issuing CA and the root, served at
	// /pki/ca.pem.
	CAChain []byte
	// Revocations answers the CRL and OCSP; nil: they are not found.
	Revocations *certs.Revocations
	Logger      *slog.Logger
}

// Handler serves the CA's objects.
type Handler struct {
	c   Config
	mux *http.ServeMux
}

// New returns the handler of the CA's objects.
func New(c Config) *Handler {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	h := &Handler{c: c, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /pki/ca.pem", h.caChain)
	h.mux.HandleFunc("GET /pki/crl", h.crl)
	h.mux.HandleFunc("POST /pki/ocsp", h.ocspPost)
	return h
}

// ServeHTTP serves the paths under Prefix. OCSP by GET is served before
// the mux, which would redirect a base64 request holding "//" to a
// cleaned path.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, ocspGetPrefix) {
		h.ocspGet(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Route returns the pattern of the route that serves r ("" when none),
// for the server's metrics, which count requests by route, never by path.
func (h *Handler) Route(r *http.Request) string {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, ocspGetPrefix) {
		return "GET " + ocspGetPrefix + "{request}"
	}
	_, pattern := h.mux.Handler(r)
	return pattern
}

// Mount returns a handler that serves the paths under Prefix with the CA's
// objects, in cross-origin protection like the API, and every other path
// with next.
func (h *Handler) Mount(next http.Handler) http.Handler {
	own := httpedge.ProtectCrossOrigin(h, h.refuse)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, Prefix) {
			own.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers err in JSON, as the API does.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	httpedge.WriteJSONError(h.c.Logger, w, r, err)
}

// caChain is GET /pki/ca.pem: the client-issuing CA and the root.
func (h *Handler) caChain(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(h.c.CAChain)
}
