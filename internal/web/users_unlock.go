package web

import (
	"errors"
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/identity"
)

// unlock is POST /users/{login_id}/unlock (master only): a general user
// locked after wrong passwords is unlocked with the master's confirmation
// password (identity.Service.UnlockByMaster)
// and the users page says so. A master user is unlocked by the bank, which
// the users page explains when asked.
func (h *Handler) unlock(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	loginID := r.PathValue("login_id")
	err := h.c.Identity.UnlockByMaster(r.Context(), p.User, loginID, r.PostForm.Get("confirmation_password"))
	switch {
	case err == nil:
		h.setNotice(w, noticeUnlocked, loginID)
		http.Redirect(w, r, pathUsers, http.StatusSeeOther)
	case errors.Is(err, identity.ErrMasterUnlockByBank), errors.Is(err, identity.ErrNotLocked), errors.Is(err, identity.ErrInvalidConfirmation):
		h.renderUsers(w, r, p, http.StatusOK, err, nil)
	default:
		h.refuseMember(w, r, p, err)
	}
}

// refuseUsersForm shows the users page again with why a form on it was
// refused.
func (h *Handler) refuseUsersForm(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	h.renderUsers(w, r, p, http.StatusOK, err, nil)
}
