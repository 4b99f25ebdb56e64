package web

import (
	"errors"
	"net/http"
	"strings"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
)

// loginPage is the data of the login page.
type loginPage struct {
	LoginID string // as typed, kept when the login is refused
	// CertificateLoginRequired: the organization uses certificate login
	// (R8), so the refusal points at the certificate login button.
	CertificateLoginRequired bool
}

// loginForm is GET /login on the portal: ID + password, the way to the
// certificate login and to certificate issuance.
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	h.restoreTyped(r)
	h.renderLogin(w, r, nil)
}

// passwordLogin is POST /login on the portal: auth.Manager.PasswordLogin,
// then the session cookie shared with the API.
func (h *Handler) passwordLogin(w http.ResponseWriter, r *http.Request) {
	loginID, password := strings.TrimSpace(r.PostForm.Get("login_id")), r.PostForm.Get("password")
	if loginID == "" || password == "" {
		h.renderLogin(w, r, httpedge.ErrRequired)
		return
	}
	release, err := h.c.PasswordChecks.Enter(r)
	if err != nil {
		h.renderLogin(w, r, err)
		return
	}
	defer release()
	token, p, err := h.c.Auth.PasswordLogin(r.Context(), loginID, password, httpedge.ClientAddress(r))
	if err != nil {
		h.renderLogin(w, r, err)
		return
	}
	h.c.Listener.SetSession(w, token)
	http.Redirect(w, r, afterLogin(p), http.StatusSeeOther)
}

// renderLogin shows the login page, after a refusal with its reason and
// the login ID as typed.
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusOK
	v := &view{}
	d := loginPage{}
	if err != nil {
		status, v.Errors = h.refusal(r, err)
		httpedge.SetRetryAfterOf(w, err)
		d.CertificateLoginRequired = errors.Is(err, auth.ErrCertificateLoginRequired)
	}
	if r.PostForm != nil {
		d.LoginID = truncate(strings.TrimSpace(r.PostForm.Get("login_id")), 64)
	}
	v.Data = d
	h.render(w, r, status, "login", v)
}

// truncate cuts s to at most n bytes at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}
