package api

import (
	"context"
	"net/http"
	"strings"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
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
	// FailedLogins are the failed attempts with the user's login ID
	// between the previous login and this session's.
	FailedLogins failedLoginsJSON `json:"failed_logins"`
}

type failedLoginsJSON struct {
	Count  int                 `json:"count"`
	Recent []failureSourceJSON `json:"recent"`
}

type failureSourceJSON struct {
	Address string `json:"address"` // empty when unknown
	Channel string `json:"channel"`
	At      string `json:"at"`
}

// sessionJSON is the session's user and organization, with the report of
// failed logins the user got at this login.
func (a *API) sessionJSON(ctx context.Context, p auth.Principal) (sessionResponse, error) {
	rep, err := a.c.Identity.FailureReport(ctx, p.User.ID)
	if err != nil {
		return sessionResponse{}, err
	}
	fl := failedLoginsJSON{Count: rep.Count, Recent: []failureSourceJSON{}}
	for _, s := range rep.Sources {
		fl.Recent = append(fl.Recent, failureSourceJSON{Address: s.Address, Channel: strings.ReplaceAll(s.Channel, " ", "_"), At: timeString(s.At)})
	}
	return sessionResponse{
		LoginID: p.User.LoginID, Name: p.User.Name, Role: string(p.User.Role),
		Organization:           organizationJSON{Code: p.Organization.Code, Name: p.Organization.Name, CertificateLogin: p.Organization.CertificateLogin},
		PasswordChangeRequired: p.PasswordChangeRequired(),
		FailedLogins:           fl,
	}, nil
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
	token, p, err := a.c.Auth.PasswordLogin(r.Context(), strings.TrimSpace(req.LoginID), req.Password, httpedge.ClientAddress(r))
	if err != nil {
		return err
	}
	resp, err := a.sessionJSON(r.Context(), p)
	if err != nil {
		return err
	}
	a.c.Listener.SetSession(w, token)
	writeJSON(w, http.StatusCreated, resp)
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
	token, p, err := a.c.Auth.CertificateLogin(r.Context(), a.c.Listener.PeerCertificate(r), req.Password, httpedge.ClientAddress(r))
	if err != nil {
		return err
	}
	resp, err := a.sessionJSON(r.Context(), p)
	if err != nil {
		return err
	}
	a.c.Listener.SetSession(w, token)
	writeJSON(w, http.StatusCreated, resp)
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
