package api

import (
	"errors"
	"net/http"

	"kinko/internal/certs"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

type certificateJSON struct {
	Serial    string `json:"serial"`
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
	DaysLeft  int    `json:"days_left"`
	// RenewalDue: inside the renewal window and not yet renewed (R9).
	RenewalDue bool `json:"renewal_due"`
	// Renewal is the certificate's renewal, issued but not yet used to log
	// in; absent when none.
	Renewal *renewalJSON `json:"renewal,omitempty"`
}

type renewalJSON struct {
	Serial   string `json:"serial"`
	NotAfter string `json:"not_after"`
}

type meResponse struct {
	sessionResponse
	Certificate *certificateJSON `json:"certificate"`
}

// me is GET /api/v1/me: the session's user, organization and certificate
// (R10: the user can see the validity of their certificate).
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	s, err := a.sessionJSON(r.Context(), p)
	if err != nil {
		return err
	}
	resp := meResponse{sessionResponse: s}
	c := p.Certificate
	if c == nil {
		cur, err := a.c.Certs.CurrentCertificate(r.Context(), p.User.ID)
		if err != nil && !errors.Is(err, certs.ErrNotFound) {
			return err
		}
		if err == nil && cur.Status == certs.StatusIssued {
			c = &cur
		}
	}
	if c != nil {
		now := a.c.Now()
		resp.Certificate = &certificateJSON{Serial: c.Serial, NotBefore: timeString(c.NotBefore), NotAfter: timeString(c.NotAfter), DaysLeft: c.DaysLeft(now)}
		if p.Certificate != nil {
			rn, err := a.c.Certs.RenewalOf(r.Context(), *c)
			if err != nil {
				return err
			}
			resp.Certificate.RenewalDue = rn.Due
			if rn.Renewed != nil {
				resp.Certificate.Renewal = &renewalJSON{Serial: rn.Renewed.Serial, NotAfter: timeString(rn.Renewed.NotAfter)}
			}
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

type changePasswordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// changePassword is POST /api/v1/me/password and
// POST /api/v1/me/confirmation-password.
func (a *API) changePassword(kind identity.PasswordKind) httpedge.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req changePasswordRequest
		if err := decode(w, r, &req); err != nil {
			return err
		}
		p := principal(r)
		if err := a.c.Identity.ChangePassword(r.Context(), p.User, kind, req.Current, req.New, p.Session.IDHash); err != nil {
			return err
		}
		u, _, err := a.c.Identity.UserByID(r.Context(), p.User.ID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]bool{"password_change_required": u.PasswordChangeRequired || u.ConfirmationChangeRequired})
		return nil
	}
}
