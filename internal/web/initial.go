package web

import (
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/identity"
)

// initialPasswordPage is the data of the forced password change.
type initialPasswordPage struct {
	Login              bool // the login password must still be changed
	Confirmation       bool // the confirmation password must still be changed
	LoginDone          bool // the login password was changed just now
	LoginErrors        []message
	ConfirmationErrors []message
}

// initialPasswordForm is GET /password/initial: a user whose passwords were
// set by someone else (the bank or the master user) changes them before
// anything else is reachable.
func (h *Handler) initialPasswordForm(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !p.PasswordChangeRequired() {
		http.Redirect(w, r, pathHome, http.StatusSeeOther)
		return
	}
	h.renderInitialPassword(w, r, p, p.User, http.StatusOK, initialPasswordPage{})
}

// initialPassword is POST /password/initial: both passwords that still need
// a change, each with the current one and the new one twice.
func (h *Handler) initialPassword(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	u := p.User
	var d initialPasswordPage
	// Check both parts of the form before changing anything, so that a
	// slip in the second part does not leave the first one half done.
	if u.PasswordChangeRequired {
		if err := checkNewPassword(r, "login_"); err != nil {
			status, msgs := h.refusal(r, err)
			d.LoginErrors = msgs
			h.renderInitialPassword(w, r, p, u, status, d)
			return
		}
	}
	if u.ConfirmationChangeRequired {
		if err := checkNewPassword(r, "confirmation_"); err != nil {
			status, msgs := h.refusal(r, err)
			d.ConfirmationErrors = msgs
			h.renderInitialPassword(w, r, p, u, status, d)
			return
		}
	}
	if u.PasswordChangeRequired {
		err := h.changeOne(r, p, u, identity.LoginPassword, "login_")
		if err != nil {
			status, msgs := h.refusal(r, err)
			d.LoginErrors = msgs
			h.renderInitialPassword(w, r, p, u, status, d)
			return
		}
		d.LoginDone = true
		// The confirmation password must differ from the new login
		// password: check against the stored user.
		if u, _, err = h.c.Identity.UserByID(r.Context(), u.ID); err != nil {
			h.renderError(w, r, err)
			return
		}
	}
	if u.ConfirmationChangeRequired {
		if err := h.changeOne(r, p, u, identity.ConfirmationPassword, "confirmation_"); err != nil {
			status, msgs := h.refusal(r, err)
			d.ConfirmationErrors = msgs
			h.renderInitialPassword(w, r, p, u, status, d)
			return
		}
	}
	http.Redirect(w, r, pathHome, http.StatusSeeOther)
}

// renderInitialPassword shows the forced change for u as it is now.
func (h *Handler) renderInitialPassword(w http.ResponseWriter, r *http.Request, p auth.Principal, u identity.User, status int, d initialPasswordPage) {
	d.Login, d.Confirmation = u.PasswordChangeRequired, u.ConfirmationChangeRequired
	m := memberOf(p)
	m.MustChange = d.Login || d.Confirmation
	h.render(w, r, status, "initial_password", &view{Member: m, Data: d})
}
