package web

import (
	"net/http"
	"time"

	"kinko/internal/auth"
)

// renewalPage is the data of the renewal page.
type renewalPage struct {
	NotAfter time.Time // of the session's certificate
	DaysLeft int
	Due      bool      // inside the renewal window
	From     time.Time // when the window opens
	// Renewed: a renewal was issued and not yet used; renewing again
	// replaces it.
	Renewed   bool
	RenewedAt time.Time
}

// renewal is GET /renew on the certificate portal: 電子証明書更新 (R9). As on
// the issuance page, the script (static/js/issue.js) makes the key in the
// browser, sends the request to POST /api/v1/certificates/renewal with the
// session and builds the PKCS#12 file in the page.
func (h *Handler) renewal(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if p.Certificate == nil {
		h.notFound(w, r)
		return
	}
	c := *p.Certificate
	now := h.c.Now()
	rn, err := h.c.Certs.RenewalOf(r.Context(), c)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	d := renewalPage{NotAfter: c.NotAfter, DaysLeft: c.DaysLeft(now), Due: h.c.Certs.InRenewalWindow(c, now),
		From: c.NotAfter.Add(-h.c.Certs.RenewalWindow())}
	if rn.Renewed != nil {
		d.Renewed, d.RenewedAt = true, rn.Renewed.IssuedAt
	}
	h.render(w, r, http.StatusOK, "renew", &view{Member: memberOf(p), Data: d})
}
