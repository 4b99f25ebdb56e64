package web

import (
	"net/http"
	"time"

	"kinko/internal/auth"
	"kinko/internal/identity"
)

// recentLogins is how many login times the top screen shows.
const recentLogins = 3

// homePage is the data of the top screen.
type homePage struct {
	Logins []time.Time // newest first, this login included
	// Notices are other messages for the user.
	Notices []message
	// Renewal is the notice of R9: the session's certificate expires
	// within the renewal window. nil otherwise.
	Renewal *renewalNotice
	// Banking is the balances and what awaits the user's approval; nil
	// when the user may do nothing in banking.
	Banking *homeBanking
	// Failures are the failed logins with the user's login ID between the
	// previous login and this one.
	Failures identity.FailureReport
}

// renewalNotice is the top screen's notice of a certificate to renew.
type renewalNotice struct {
	NotAfter time.Time
	DaysLeft int
	// Renewed: the renewal was issued but not yet used to log in.
	Renewed   bool
	RenewedAt time.Time
}

// home is GET /home: the top screen (トップ画面) with the organization, the
// user, the last logins and the notices.
func (h *Handler) home(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var d homePage
	if h.c.Logins != nil {
		logins, err := h.c.Logins.RecentLogins(r.Context(), p.User.ID, recentLogins)
		if err != nil {
			h.renderError(w, r, err)
			return
		}
		d.Logins = logins
	}
	if c := p.Certificate; c != nil && h.c.Certs.InRenewalWindow(*c, h.c.Now()) {
		rn, err := h.c.Certs.RenewalOf(r.Context(), *c)
		if err != nil {
			h.renderError(w, r, err)
			return
		}
		d.Renewal = &renewalNotice{NotAfter: c.NotAfter, DaysLeft: c.DaysLeft(h.c.Now())}
		if rn.Renewed != nil {
			d.Renewal.Renewed, d.Renewal.RenewedAt = true, rn.Renewed.IssuedAt
		}
	}
	failures, err := h.c.Identity.FailureReport(r.Context(), p.User.ID)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	d.Failures = failures
	bk, err := h.homeBankingOf(r.Context(), p)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	d.Banking = bk
	h.render(w, r, http.StatusOK, "home", &view{Member: memberOf(p), Data: d})
}
