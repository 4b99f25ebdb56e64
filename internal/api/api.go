// Package api is kinko's JSON API v1, served on the portal listener (ID +
// password sessions, certificate issuance, the CA chain) and on the
// certificate portal (certificate-login sessions). It maps domain errors to
// stable error codes with a safe message in Japanese and English; details
// go to the log, never to the client. It decides nothing itself: the rules
// live in identity, certs and auth.
package api

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
)

// Listener says which listener a handler serves.
type Listener int

// Listeners.
const (
	Portal     Listener = iota // ID + password; never asks for a client certificate
	CertPortal                 // client certificate required
)

// Cookie names: one per listener, because cookies do not separate ports.
const (
	PortalCookie     = "__Host-kinko-session"
	CertPortalCookie = "__Host-kinko-cert-session"
)

// Config holds the API's dependencies.
type Config struct {
	Listener Listener
	Identity *identity.Service
	Certs    *certs.Service
	Auth     *auth.Manager
	// Banking is the organizations' banking (accounts, transfers,
	// approvals).
	Banking *banking.Service
	CAChain []byte // PEM served at /pki/ca.pem
	// Revocations serves the CRL and OCSP on the portal; nil: not served.
	Revocations *certs.Revocations
	Logger      *slog.Logger
	Now         func() time.Time
}

// API serves the JSON API of one listener.
type API struct {
	c      Config
	cookie string
	mux    *http.ServeMux
}

// New returns the API for one listener.
func New(c Config) *API {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	a := &API{c: c, cookie: PortalCookie, mux: http.NewServeMux()}
	if c.Listener == CertPortal {
		a.cookie = CertPortalCookie
		a.mux.HandleFunc("POST /api/v1/sessions", a.certificateLogin)
		a.mux.HandleFunc("POST /api/v1/certificates/renewal", a.session(a.renewCertificate, 0))
	} else {
		a.mux.HandleFunc("POST /api/v1/sessions", a.passwordLogin)
		a.mux.HandleFunc("POST /api/v1/certificates", a.issueCertificate)
		a.mux.HandleFunc("GET /pki/ca.pem", a.caChain)
		a.mux.HandleFunc("GET /pki/crl", a.crl)
		a.mux.HandleFunc("POST /pki/ocsp", a.ocspPost)
	}
	a.mux.HandleFunc("GET /api/v1/me", a.session(a.me, allowDuringPasswordChange))
	a.mux.HandleFunc("POST /api/v1/me/password", a.session(a.changePassword(identity.LoginPassword), allowDuringPasswordChange))
	a.mux.HandleFunc("POST /api/v1/me/confirmation-password", a.session(a.changePassword(identity.ConfirmationPassword), allowDuringPasswordChange))
	a.mux.HandleFunc("DELETE /api/v1/sessions/current", a.session(a.logout, allowDuringPasswordChange))
	a.mux.HandleFunc("GET /api/v1/users", a.session(a.listUsers, 0))
	a.mux.HandleFunc("POST /api/v1/users", a.session(a.createUser, 0))
	a.mux.HandleFunc("POST /api/v1/users/{login_id}/unlock", a.session(a.unlockUser, 0))
	a.mux.HandleFunc("POST /api/v1/users/{login_id}/certificate/revocation", a.session(a.revokeCertificate, 0))
	a.mux.HandleFunc("GET /api/v1/accounts", a.bank(a.listAccounts))
	a.mux.HandleFunc("GET /api/v1/accounts/{id}", a.bank(a.getAccount))
	a.mux.HandleFunc("GET /api/v1/accounts/{id}/transactions", a.bank(a.transactions))
	a.mux.HandleFunc("GET /api/v1/payees", a.bank(a.listPayees))
	a.mux.HandleFunc("POST /api/v1/payees", a.bank(a.registerPayee))
	a.mux.HandleFunc("DELETE /api/v1/payees/{id}", a.bank(a.deletePayee))
	a.mux.HandleFunc("GET /api/v1/transfers", a.bank(a.listTransfers))
	a.mux.HandleFunc("POST /api/v1/transfers", a.bank(a.requestTransfer))
	a.mux.HandleFunc("GET /api/v1/transfers/{id}", a.bank(a.getTransfer))
	a.mux.HandleFunc("PUT /api/v1/transfers/{id}", a.bank(a.resubmitTransfer))
	a.mux.HandleFunc("POST /api/v1/transfers/{id}/approval", a.bank(a.approveTransfer))
	a.mux.HandleFunc("POST /api/v1/transfers/{id}/send-back", a.bank(a.decideTransfer(a.c.Banking.SendBack)))
	a.mux.HandleFunc("POST /api/v1/transfers/{id}/rejection", a.bank(a.decideTransfer(a.c.Banking.Reject)))
	a.mux.HandleFunc("POST /api/v1/transfers/{id}/cancellation", a.bank(a.decideTransfer(a.c.Banking.Cancel)))
	a.mux.HandleFunc("GET /api/v1/transfer-batches", a.bank(a.listBatches))
	a.mux.HandleFunc("POST /api/v1/transfer-batches", a.bank(a.createBatch))
	a.mux.HandleFunc("GET /api/v1/transfer-batches/{id}", a.bank(a.getBatch))
	a.mux.HandleFunc("POST /api/v1/transfer-batches/{id}/approval", a.bank(a.approveBatch))
	a.mux.HandleFunc("POST /api/v1/transfer-batches/{id}/send-back", a.bank(a.decideBatch(a.c.Banking.SendBackBatch)))
	a.mux.HandleFunc("POST /api/v1/transfer-batches/{id}/rejection", a.bank(a.decideBatch(a.c.Banking.RejectBatch)))
	a.mux.HandleFunc("POST /api/v1/transfer-batches/{id}/cancellation", a.bank(a.decideBatch(a.c.Banking.CancelBatch)))
	a.mux.HandleFunc("GET /api/v1/users/{login_id}/privileges", a.bank(a.getPrivileges))
	a.mux.HandleFunc("PUT /api/v1/users/{login_id}/privileges", a.bank(a.setPrivileges))
	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, errNotFoundRoute)
	})
	return a
}

// ServeHTTP serves the API. Non-GET requests must be JSON and are refused
// when a browser says they come from another origin (CSRF).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if a.c.Listener == Portal && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, ocspGetPrefix) {
		a.ocspGet(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// Handler returns the API wrapped in cross-origin protection.
func (a *API) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, errCrossOrigin)
	}))
	return cop.Handler(a)
}

// Refuse writes the JSON error response for err (status, code, message).
func (a *API) Refuse(w http.ResponseWriter, r *http.Request, err error) { a.writeError(w, r, err) }

type principalKey struct{}

// principal returns the authenticated principal of a request.
func principal(r *http.Request) auth.Principal {
	p, _ := r.Context().Value(principalKey{}).(auth.Principal)
	return p
}

const allowDuringPasswordChange = 1

// session wraps a handler that needs a valid session on this listener.
func (a *API) session(h http.HandlerFunc, flags int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var token string
		if c, err := r.Cookie(a.cookie); err == nil {
			token = c.Value
		}
		p, err := a.c.Auth.Authenticate(r.Context(), token, PeerCertificate(r, a.c.Listener))
		if err != nil {
			if errors.Is(err, auth.ErrNoSession) {
				a.clearCookie(w)
			}
			a.writeError(w, r, err)
			return
		}
		if p.PasswordChangeRequired() && flags&allowDuringPasswordChange == 0 {
			a.writeError(w, r, errPasswordChangeRequired)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// PeerCertificate returns the client certificate of the request's TLS
// connection on the certificate portal, nil otherwise. The certificate
// portal's VerifyConnection has verified its chain to the client-issuing CA
// (crypto/tls does not, with RequestClientCert, so VerifiedChains is empty).
func PeerCertificate(r *http.Request, l Listener) *x509.Certificate {
	if l != CertPortal || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}

func (a *API) setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (a *API) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// maxBody is the largest request body accepted (a CSR with an RSA-4096 key
// is about 2 KiB).
const maxBody = 64 << 10

// decode reads a JSON request body into v. Unknown fields are an error.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errUnsupportedMediaType
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &requestError{detail: err.Error()}
	}
	if dec.More() {
		return &requestError{detail: "trailing data after the JSON object"}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Error is the body of every error response.
type Error struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := ToStatus(err)
	if status >= 500 {
		a.c.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		a.c.Logger.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
	writeJSON(w, status, Error{Error: code, Message: msg})
}

func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339) }
