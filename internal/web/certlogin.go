package web

import (
	"net/http"
	"time"

	"kinko/internal/httpedge"
)

// certificateLoginPage is the data of the certificate portal's login: whose
// certificate the browser presented.
type certificateLoginPage struct {
	Organization     string
	OrganizationCode string
	LoginID          string
	Name             string
	Serial           string
	NotAfter         time.Time
	DaysLeft         int
}

// certificateLoginForm is GET / on the certificate portal: it shows whose
// certificate was presented and asks for the login password. A user who is
// logged in with this certificate goes on to the top screen.
func (h *Handler) certificateLoginForm(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(h.c.Listener.SessionCookie()); err == nil && c.Value != "" {
		if p, err := h.c.Auth.Authenticate(r.Context(), c.Value, h.c.Listener.PeerCertificate(r)); err == nil {
			http.Redirect(w, r, afterLogin(p), http.StatusSeeOther)
			return
		}
	}
	h.renderCertificateLogin(w, r, nil)
}

// certificateLogin is POST / on the certificate portal: the connection's
// certificate and the login password (auth.Manager.CertificateLogin), then
// the session cookie shared with the API.
func (h *Handler) certificateLogin(w http.ResponseWriter, r *http.Request) {
	password := r.PostForm.Get("password")
	if password == "" {
		h.renderCertificateLogin(w, r, httpedge.ErrRequired)
		return
	}
	release, err := h.c.PasswordChecks.Enter(r)
	if err != nil {
		h.renderCertificateLogin(w, r, err)
		return
	}
	defer release()
	token, p, err := h.c.Auth.CertificateLogin(r.Context(), h.c.Listener.PeerCertificate(r), password, httpedge.ClientAddress(r))
	if err != nil {
		h.renderCertificateLogin(w, r, wrongLoginPassword(err))
		return
	}
	h.c.Listener.SetSession(w, token)
	http.Redirect(w, r, afterLogin(p), http.StatusSeeOther)
}

// renderCertificateLogin shows the certificate login, after a refusal with
// its reason; a certificate that cannot be used gets the error page.
func (h *Handler) renderCertificateLogin(w http.ResponseWriter, r *http.Request, err error) {
	c, u, org, cerr := h.c.Auth.CheckCertificate(r.Context(), h.c.Listener.PeerCertificate(r))
	if cerr != nil {
		h.renderError(w, r, cerr)
		return
	}
	status := http.StatusOK
	v := &view{}
	if err != nil {
		status, v.Errors = h.refusal(r, err)
		httpedge.SetRetryAfterOf(w, err)
	}
	v.Data = certificateLoginPage{
		Organization: org.Name, OrganizationCode: org.Code, LoginID: u.LoginID, Name: u.Name,
		Serial: c.Serial, NotAfter: c.NotAfter, DaysLeft: c.DaysLeft(h.c.Now()),
	}
	h.render(w, r, status, "certlogin", v)
}
