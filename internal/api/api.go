// Package api is kinko's JSON API v1, served on the portal listener (ID +
// password sessions, certificate issuance) and on the certificate portal
// (certificate-login sessions). Its handlers return an error, which one
// wrapper answers with the status, stable code and message of httpedge's
// table (Japanese and English); details go to the log, never to the
// client. It decides nothing itself: the rules live in identity, certs,
// auth and banking. It never imports the pages (package web).
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// Config holds the API's dependencies.
type Config struct {
	Listener httpedge.Listener
	Identity *identity.Service
	Certs    *certs.Service
	Auth     *auth.Manager
	// Banking is the organizations' banking (accounts, transfers,
	// approvals).
	Banking *banking.Service
	// CAChain is the PEM of the client-issuing CA and the root, returned
	// with every issued certificate.
	CAChain []byte
	// PasswordChecks limits the password checks without a session (login,
	// issuance) in flight per client address; nil: no limit.
	PasswordChecks *httpedge.PasswordChecks
	Logger         *slog.Logger
	Now            func() time.Time
}

// API serves the JSON API of one listener.
type API struct {
	c        Config
	sessions httpedge.Sessions
	mux      *http.ServeMux
}

// New returns the API for one listener.
func New(c Config) *API {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	a := &API{c: c, sessions: httpedge.Sessions{Listener: c.Listener, Auth: c.Auth}, mux: http.NewServeMux()}
	if c.Listener == httpedge.CertPortal {
		a.mux.HandleFunc("POST /api/v1/sessions", a.handle(a.certificateLogin))
		a.mux.HandleFunc("POST /api/v1/certificates/renewal", a.session(a.renewCertificate, httpedge.Ordinary))
	} else {
		a.mux.HandleFunc("POST /api/v1/sessions", a.handle(a.passwordLogin))
		a.mux.HandleFunc("POST /api/v1/certificates", a.handle(a.issueCertificate))
		a.mux.HandleFunc("POST /api/v1/certificates/withdrawal", a.handle(a.withdrawCertificate))
	}
	a.mux.HandleFunc("GET /api/v1/me", a.session(a.me, httpedge.DuringPasswordChange))
	a.mux.HandleFunc("POST /api/v1/me/password", a.session(a.changePassword(identity.LoginPassword), httpedge.DuringPasswordChange))
	a.mux.HandleFunc("POST /api/v1/me/confirmation-password", a.session(a.changePassword(identity.ConfirmationPassword), httpedge.DuringPasswordChange))
	a.mux.HandleFunc("DELETE /api/v1/sessions/current", a.session(a.logout, httpedge.DuringPasswordChange))
	a.mux.HandleFunc("GET /api/v1/users", a.session(a.listUsers, httpedge.Ordinary))
	a.mux.HandleFunc("POST /api/v1/users", a.session(a.createUser, httpedge.Ordinary))
	a.mux.HandleFunc("POST /api/v1/users/{login_id}/unlock", a.session(a.unlockUser, httpedge.Ordinary))
	a.mux.HandleFunc("POST /api/v1/users/{login_id}/password-reset", a.session(a.resetPasswords, httpedge.Ordinary))
	a.mux.HandleFunc("POST /api/v1/users/{login_id}/certificate/revocation", a.session(a.revokeCertificate, httpedge.Ordinary))
	a.mux.HandleFunc("GET /api/v1/accounts", a.bank(a.listAccounts))
	a.mux.HandleFunc("GET /api/v1/accounts/{id}", a.bank(a.getAccount))
	a.mux.HandleFunc("GET /api/v1/accounts/{id}/transactions", a.bank(a.transactions))
	a.mux.HandleFunc("GET /api/v1/banks", a.bank(a.searchBanks))
	a.mux.HandleFunc("GET /api/v1/banks/{code}/branches", a.bank(a.searchBranches))
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
	a.mux.HandleFunc("POST /api/v1/transfers/{id}/cancellation", a.bank(a.cancelTransfer))
	a.mux.HandleFunc("GET /api/v1/transfer-batches", a.bank(a.listBatches))
	a.mux.HandleFunc("POST /api/v1/transfer-batches", a.bank(a.createBatch))
	a.mux.HandleFunc("POST /api/v1/batch-uploads", a.bank(a.uploadBatch))
	a.mux.HandleFunc("GET /api/v1/batch-uploads/{id}", a.bank(a.getUpload))
	a.mux.HandleFunc("POST /api/v1/batch-uploads/{id}/confirmation", a.bank(a.confirmUpload))
	a.mux.HandleFunc("DELETE /api/v1/batch-uploads/{id}", a.bank(a.discardUpload))
	a.mux.HandleFunc("GET /api/v1/transfer-batches/{id}", a.bank(a.getBatch))
	a.mux.HandleFunc("POST /api/v1/transfer-batches/{id}/approval", a.bank(a.approveBatch))
	a.mux.HandleFunc("POST /api/v1/transfer-batches/{id}/send-back", a.bank(a.decideBatch(a.c.Banking.SendBackBatch)))
	a.mux.HandleFunc("POST /api/v1/transfer-batches/{id}/rejection", a.bank(a.decideBatch(a.c.Banking.RejectBatch)))
	a.mux.HandleFunc("POST /api/v1/transfer-batches/{id}/cancellation", a.bank(a.cancelBatch))
	a.mux.HandleFunc("GET /api/v1/users/{login_id}/privileges", a.bank(a.getPrivileges))
	a.mux.HandleFunc("PUT /api/v1/users/{login_id}/privileges", a.bank(a.setPrivileges))
	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, httpedge.ErrNoRoute)
	})
	return a
}

// ServeHTTP serves the API. Non-GET requests must be JSON and are refused
// when a browser says they come from another origin (CSRF).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	a.mux.ServeHTTP(w, r)
}

// Route returns the pattern of the API's route that serves r ("" when
// none), for the server's metrics, which count requests by route, never
// by path.
func (a *API) Route(r *http.Request) string {
	_, pattern := a.mux.Handler(r)
	return pattern
}

// Handler returns the API wrapped in cross-origin protection.
func (a *API) Handler() http.Handler {
	return httpedge.ProtectCrossOrigin(a, a.writeError)
}

// Refuse writes the JSON error response for err (status, code, message).
func (a *API) Refuse(w http.ResponseWriter, r *http.Request, err error) { a.writeError(w, r, err) }

// principal returns the authenticated principal of a request.
func principal(r *http.Request) auth.Principal {
	p, _ := httpedge.PrincipalFrom(r.Context())
	return p
}

// handle turns a handler that returns its error into an http.HandlerFunc
// that answers the error in JSON.
func (a *API) handle(h httpedge.HandlerFunc) http.HandlerFunc {
	return httpedge.Handle(h, a.writeError)
}

// session wraps a handler that needs a valid session on this listener.
func (a *API) session(h httpedge.HandlerFunc, allow httpedge.Allow) http.HandlerFunc {
	return a.sessions.Require(a.handle(h), allow, a.refuseSession).ServeHTTP
}

// refuseSession answers a request without a usable session; a session
// that is gone loses its cookie.
func (a *API) refuseSession(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, auth.ErrNoSession) {
		a.c.Listener.ClearSession(w)
	}
	a.writeError(w, r, err)
}

// maxBody is the largest request body accepted (a CSR with an RSA-4096 key
// is about 2 KiB).
const maxBody = 64 << 10

// decode reads a JSON request body into v. Unknown fields are an error.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return httpedge.ErrUnsupportedMediaType
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("api: body: %w", err) // 413 request_too_large
		}
		return &httpedge.RequestError{Detail: err.Error()}
	}
	if dec.More() {
		return &httpedge.RequestError{Detail: "trailing data after the JSON object"}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) { httpedge.WriteJSON(w, status, v) }

// writeError answers err in JSON: a batch's or a file's problems with
// every one of them (problemsError), anything else as httpedge has it
// (with Retry-After when the error says when to try again).
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *problemsError
	if errors.As(err, &pe) {
		a.writeErrorList(w, r, pe.err, pe.list)
		return
	}
	httpedge.WriteJSONError(a.c.Logger, w, r, err)
}

func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339) }
