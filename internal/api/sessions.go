package api

import (
	"net/http"
	"strings"

	"kinko/internal/auth"
)

type passwordLoginRequest struct {
	LoginID  string `json:"login_id"`
	Password string `json:"password"`
}

type certificateLoginRequest struct {
	Password string `json:"password"`
}

type organizationJSON struct {
	Code             string `json:"code"`
	Name             string `json:"name"`
	CertificateLogin bool   `json:"certificate_login"`
}

type sessionResponse struct {
	LoginID                string           `json:"login_id"`
	Name                   string           `json:"name"`
	Role                   string           `json:"role"`
	Organization           organizationJSON `json:"organization"`
	PasswordChangeRequired bool             `json:"password_change_required"`
}

func sessionJSON(p auth.Principal) sessionResponse {
	return sessionResponse{
		LoginID: p.User.LoginID, Name: p.User.Name, Role: string(p.User.Role),
		Organization:           organizationJSON{Code: p.Organization.Code, Name: p.Organization.Name, CertificateLogin: p.Organization.CertificateLogin},
		PasswordChangeRequired: p.PasswordChangeRequired(),
	}
}

// passwordLogin is POST /api/v1/sessions on the portal.
func (a *API) passwordLogin(w http.ResponseWriter, r *http.Request) error {
	var req passwordLoginRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	release, err := a.c.PasswordChecks.Enter(r)
	if err != nil {
		return err
	}
	defer release()
	token, p, err := a.c.Auth.PasswordLogin(r.Context(), strings.TrimSpace(req.LoginID), req.Password)
	if err != nil {
		return err
	}
	a.c.Listener.SetSession(w, token)
	writeJSON(w, http.StatusCreated, sessionJSON(p))
	return nil
}

// certificateLogin is POST /api/v1/sessions on the certificate portal: the
// connection's certificate plus the login password.
func (a *API) certificateLogin(w http.ResponseWriter, r *http.Request) error {
	var req certificateLoginRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	release, err := a.c.PasswordChecks.Enter(r)
	if err != nil {
		return err
	}
	defer release()
	token, p, err := a.c.Auth.CertificateLogin(r.Context(), a.c.Listener.PeerCertificate(r), req.Password)
	if err != nil {
		return err
	}
	a.c.Listener.SetSession(w, token)
	writeJSON(w, http.StatusCreated, sessionJSON(p))
	return nil
}

// logout is DELETE /api/v1/sessions/current.
func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	if err := a.c.Auth.Logout(r.Context(), principal(r)); err != nil {
		return err
	}
	a.c.Listener.ClearSession(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
