package web

import (
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// passwordPage is the data of the password change page.
type passwordPage struct {
	Done               string // "login" or "confirmation": that password was changed
	LoginErrors        []message
	ConfirmationErrors []message
}

// passwordKinds are the form values of the two passwords.
var passwordKinds = map[string]identity.PasswordKind{
	"login":        identity.LoginPassword,
	"confirmation": identity.ConfirmationPassword,
}

// passwordForm is GET /password: change the login password or the
// confirmation password (確認用パスワード).
func (h *Handler) passwordForm(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d := passwordPage{}
	if done := r.URL.Query().Get("done"); done != "" {
		if _, ok := passwordKinds[done]; ok {
			d.Done = done
		}
	}
	h.render(w, r, http.StatusOK, "password", &view{Member: memberOf(p), Data: d})
}

// changePassword is POST /password with kind=login or kind=confirmation,
// the current password and the new one twice.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	name := r.PostForm.Get("kind")
	kind, ok := passwordKinds[name]
	if !ok {
		h.renderError(w, r, httpedge.ErrBadForm)
		return
	}
	err := h.changeOne(r, p, p.User, kind, "")
	if err == nil {
		http.Redirect(w, r, pathPassword+"?done="+name, http.StatusSeeOther)
		return
	}
	status, msgs := h.refusal(r, err)
	d := passwordPage{}
	if kind == identity.LoginPassword {
		d.LoginErrors = msgs
	} else {
		d.ConfirmationErrors = msgs
	}
	h.render(w, r, status, "password", &view{Member: memberOf(p), Data: d})
}

// changeOne changes one of u's passwords from the form fields
// prefix+"current", prefix+"new" and prefix+"again"; u's other sessions
// end, p's stays.
func (h *Handler) changeOne(r *http.Request, p auth.Principal, u identity.User, kind identity.PasswordKind, prefix string) error {
	if err := checkNewPassword(r, prefix); err != nil {
		return err
	}
	err := h.c.Identity.ChangePassword(r.Context(), u, kind, r.PostForm.Get(prefix+"current"), r.PostForm.Get(prefix+"new"), p.Session.IDHash)
	if kind == identity.LoginPassword {
		return wrongLoginPassword(err)
	}
	return err
}

// checkNewPassword checks that the fields prefix+"current", prefix+"new"
// and prefix+"again" are filled in and that the new password was typed the
// same twice.
func checkNewPassword(r *http.Request, prefix string) error {
	current, next, again := r.PostForm.Get(prefix+"current"), r.PostForm.Get(prefix+"new"), r.PostForm.Get(prefix+"again")
	if current == "" || next == "" || again == "" {
		return httpedge.ErrRequired
	}
	if next != again {
		return httpedge.ErrPasswordMismatch
	}
	return nil
}
