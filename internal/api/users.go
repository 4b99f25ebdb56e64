package api

import (
	"net/http"
	"strings"

	"kinko/internal/certs"
	"kinko/internal/identity"
)

type userJSON struct {
	LoginID     string           `json:"login_id"`
	Name        string           `json:"name"`
	Email       string           `json:"email"`
	Role        string           `json:"role"`
	Locked      bool             `json:"locked"`
	Certificate *userCertificate `json:"certificate"`
}

type userCertificate struct {
	Serial           string `json:"serial"`
	Status           string `json:"status"` // active, expired, revoked, pending
	NotBefore        string `json:"not_before"`
	NotAfter         string `json:"not_after"`
	RevokedAt        string `json:"revoked_at,omitempty"`
	RevocationReason string `json:"revocation_reason,omitempty"`
}

// listUsers is GET /api/v1/users (master only): the organization's users
// with the status of their latest certificate.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.User.Role != identity.RoleMaster {
		return identity.ErrForbidden
	}
	users, err := a.c.Identity.ListUsers(r.Context(), p.Organization.ID)
	if err != nil {
		return err
	}
	list, err := a.c.Certs.List(r.Context(), p.Organization.ID)
	if err != nil {
		return err
	}
	latest := map[int64]certs.Certificate{}
	for _, c := range list { // newest first
		if _, ok := latest[c.UserID]; !ok {
			latest[c.UserID] = c
		}
	}
	now := a.c.Now()
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		j := userJSON{LoginID: u.LoginID, Name: u.Name, Email: u.Email, Role: string(u.Role), Locked: u.Locked()}
		if c, ok := latest[u.ID]; ok {
			uc := &userCertificate{Serial: c.Serial, Status: string(c.Status), NotBefore: timeString(c.NotBefore), NotAfter: timeString(c.NotAfter)}
			switch {
			case c.Status == certs.StatusRevoked:
				uc.RevokedAt, uc.RevocationReason = timeString(c.RevokedAt), c.RevocationReason
			case c.Status == certs.StatusIssued && c.Expired(now):
				uc.Status = "expired"
			case c.Status == certs.StatusIssued:
				uc.Status = "active"
			}
			j.Certificate = uc
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

type createUserRequest struct {
	LoginID string `json:"login_id"`
	Name    string `json:"name"`
	Email   string `json:"email"`
}

type createUserResponse struct {
	LoginID              string `json:"login_id"`
	Name                 string `json:"name"`
	Email                string `json:"email"`
	Role                 string `json:"role"`
	Password             string `json:"password"`
	ConfirmationPassword string `json:"confirmation_password"`
}

// createUser is POST /api/v1/users (master only): a general user with
// initial passwords, shown once.
func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.User.Role != identity.RoleMaster {
		return identity.ErrForbidden
	}
	var req createUserRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	u, pw, err := a.c.Identity.CreateGeneralUser(r.Context(), p.User, strings.TrimSpace(req.LoginID), strings.TrimSpace(req.Name), strings.TrimSpace(req.Email))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, createUserResponse{LoginID: u.LoginID, Name: u.Name, Email: u.Email, Role: string(u.Role),
		Password: pw.Password, ConfirmationPassword: pw.ConfirmationPassword})
	return nil
}

// unlockUser is POST /api/v1/users/{login_id}/unlock
// {"confirmation_password"} (master only, general users of the same
// organization).
func (a *API) unlockUser(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ConfirmationPassword string `json:"confirmation_password"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.c.Identity.UnlockByMaster(r.Context(), principal(r).User, r.PathValue("login_id"), req.ConfirmationPassword); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"login_id": r.PathValue("login_id"), "locked": false})
	return nil
}

// resetPasswords is POST /api/v1/users/{login_id}/password-reset
// {"confirmation_password"} (master only, general users of the same
// organization): new initial login and confirmation passwords, shown once
// and to be changed at the user's next login; the user's sessions end and
// the user's lock is lifted.
func (a *API) resetPasswords(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ConfirmationPassword string `json:"confirmation_password"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	loginID := r.PathValue("login_id")
	pw, err := a.c.Identity.ResetPasswordsByMaster(r.Context(), principal(r).User, loginID, req.ConfirmationPassword)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"login_id": loginID, "password": pw.Password,
		"confirmation_password": pw.ConfirmationPassword, "password_change_required": true})
	return nil
}

type revokeRequest struct {
	Reason               string `json:"reason"`
	ConfirmationPassword string `json:"confirmation_password"`
}

// revokeCertificate is POST /api/v1/users/{login_id}/certificate/revocation
// (失効, R12, R13): the master revokes a general user's certificate or their
// own, with the confirmation password.
func (a *API) revokeCertificate(w http.ResponseWriter, r *http.Request) error {
	var req revokeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	c, err := a.c.Certs.RevokeByMaster(r.Context(), principal(r).User, r.PathValue("login_id"), req.Reason, req.ConfirmationPassword)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"serial": c.Serial, "revoked_at": timeString(c.RevokedAt), "reason": c.RevocationReason})
	return nil
}
