package web

import (
	"errors"
	"net/http"
	"time"

	"kinko/internal/auth"
	"kinko/internal/certs"
)

// certificatePage is the data of the certificate page.
type certificatePage struct {
	Has       bool // the user has an issued certificate
	Serial    string
	NotBefore time.Time
	NotAfter  time.Time
	DaysLeft  int
	Expired   bool
	// CertificateLogin: the organization uses certificate login, so a
	// user without a certificate is told how to get one.
	CertificateLogin bool
	// RenewalDue: inside the renewal window and not yet renewed (R9);
	// Renewed: renewed, the renewal not yet used. Only in a
	// certificate-login session, where renewal happens.
	RenewalDue bool
	Renewed    bool
}

// certificate is GET /certificate: 電子証明書情報, the user's certificate
// and its validity in plain words (R10). In a certificate-login session it
// is the session's certificate; otherwise the user's issued one, if any.
func (h *Handler) certificate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d := certificatePage{CertificateLogin: p.Organization.CertificateLogin}
	c := p.Certificate
	if c == nil {
		cur, err := h.c.Certs.CurrentCertificate(r.Context(), p.User.ID)
		if err != nil && !errors.Is(err, certs.ErrNotFound) {
			h.renderError(w, r, err)
			return
		}
		if err == nil && cur.Status == certs.StatusIssued {
			c = &cur
		}
	}
	if c != nil {
		now := h.c.Now()
		d.Has, d.Serial, d.NotBefore, d.NotAfter = true, c.Serial, c.NotBefore, c.NotAfter
		d.DaysLeft, d.Expired = c.DaysLeft(now), c.Expired(now)
	}
	if p.Certificate != nil {
		rn, err := h.c.Certs.RenewalOf(r.Context(), *p.Certificate)
		if err != nil {
			h.renderError(w, r, err)
			return
		}
		d.RenewalDue, d.Renewed = rn.Due, rn.Renewed != nil
	}
	h.render(w, r, http.StatusOK, "certificate", &view{Member: memberOf(p), Data: d})
}
