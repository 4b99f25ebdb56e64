package web

import (
	"errors"
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// resetPage is the data of the form that resets a general user's
// passwords: whose.
type resetPage struct {
	LoginID, Name string
	Locked        bool
}

// resetDonePage is the data of the page that shows a general user's new
// initial passwords, once.
type resetDonePage struct {
	LoginID, Name        string
	Password             string
	ConfirmationPassword string
	CertificateLogin     bool
}

// resetForm is GET /users/{login_id}/password-reset (master only): the
// reset of a general user's forgotten passwords, what it does and the
// master's confirmation password.
func (h *Handler) resetForm(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.renderReset(w, r, p, nil)
}

// resetPasswords is POST /users/{login_id}/password-reset (master only):
// the reset (identity.Service.ResetPasswordsByMaster), and a page, not
// stored, that shows the new initial passwords once, to be printed or
// copied and handed to the user.
func (h *Handler) resetPasswords(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	confirmation := r.PostForm.Get("confirmation_password")
	if confirmation == "" {
		h.renderReset(w, r, p, httpedge.ErrRequired)
		return
	}
	loginID := r.PathValue("login_id")
	pw, err := h.c.Identity.ResetPasswordsByMaster(r.Context(), p.User, loginID, confirmation)
	switch {
	case err == nil:
	case h.lockedOut(w, r, err):
		return
	case errors.Is(err, identity.ErrInvalidConfirmation):
		h.renderReset(w, r, p, err)
		return
	default:
		h.refuseMember(w, r, p, err)
		return
	}
	u, _, err := h.c.Identity.UserByLoginID(r.Context(), loginID)
	if err != nil {
		h.refuseMember(w, r, p, err)
		return
	}
	h.render(w, r, http.StatusOK, "users_reset_done", &view{Member: memberOf(p), Page: "users", Data: resetDonePage{
		LoginID: u.LoginID, Name: u.Name, Password: pw.Password, ConfirmationPassword: pw.ConfirmationPassword,
		CertificateLogin: p.Organization.CertificateLogin,
	}})
}

// renderReset shows the reset form for the general user of the path, with
// why it was refused, if it was. A user of another organization is not
// found; a master user's passwords are reset by the bank.
func (h *Handler) renderReset(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	target, _, uerr := h.c.Identity.UserByLoginID(r.Context(), r.PathValue("login_id"))
	if uerr == nil && target.OrganizationID != p.Organization.ID {
		uerr = identity.ErrNotFound
	}
	if uerr == nil && target.Role == identity.RoleMaster {
		uerr = identity.ErrMasterResetByBank
	}
	if uerr != nil {
		h.refuseMember(w, r, p, uerr)
		return
	}
	status := http.StatusOK
	v := &view{Member: memberOf(p), Page: "users", Data: resetPage{LoginID: target.LoginID, Name: target.Name, Locked: target.Locked()}}
	if err != nil {
		status, v.Errors = h.refusal(r, err)
	}
	h.render(w, r, status, "users_reset", v)
}
