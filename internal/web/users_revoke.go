package web

import (
	"errors"
	"net/http"
	"time"

	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// revokePage is the data of the revocation form: whose certificate.
type revokePage struct {
	LoginID   string
	Name      string
	RoleKey   string
	Self      bool // the master's own certificate (R13)
	Serial    string
	NotBefore time.Time
	NotAfter  time.Time
	DaysLeft  int
	Reason    string // the chosen reason, kept on a refusal
}

// revokedSelfPage is the data of the page after the master revoked the
// certificate of their own session.
type revokedSelfPage struct {
	Serial    string
	RevokedAt time.Time
}

// revokeForm is GET /users/{login_id}/revoke (master only): 失効, with the
// certificate's details, the reason in plain words and the confirmation
// password (R12, R13).
func (h *Handler) revokeForm(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.renderRevoke(w, r, p, nil)
}

// revoke is POST /users/{login_id}/revoke (master only): the revocation
// (certs.Service.RevokeByMaster). A general user's certificate: back to the
// users page, which names the user and says what they do next (R12). The
// certificate of the master's own session: the session ends with it, so a
// page says what to do next (R13).
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	loginID := r.PathValue("login_id")
	reason, confirmation := r.PostForm.Get("reason"), r.PostForm.Get("confirmation_password")
	if confirmation == "" {
		h.renderRevoke(w, r, p, httpedge.ErrRequired)
		return
	}
	c, err := h.c.Certs.RevokeByMaster(r.Context(), p.User, loginID, reason, confirmation)
	switch {
	case err == nil:
	case h.lockedOut(w, r, err):
		return
	case errors.Is(err, identity.ErrInvalidConfirmation), errors.Is(err, certs.ErrInvalidReason):
		h.renderRevoke(w, r, p, err)
		return
	default:
		h.refuseMember(w, r, p, err)
		return
	}
	if p.Certificate != nil && p.Certificate.ID == c.ID {
		// The store ended this session with the certificate.
		h.c.Listener.ClearSession(w)
		h.render(w, r, http.StatusOK, "users_revoked_self", &view{Data: revokedSelfPage{Serial: c.Serial, RevokedAt: c.RevokedAt}})
		return
	}
	kind := noticeRevoked
	if c.UserID == p.User.ID {
		kind = noticeRevokedOwn
	}
	h.setNotice(w, kind, loginID)
	http.Redirect(w, r, pathUsers, http.StatusSeeOther)
}

// renderRevoke shows the revocation form for the user of the path, after a
// refusal with its reason and the chosen reason. A user of another
// organization, or one without an active certificate, gets a page that
// says so.
func (h *Handler) renderRevoke(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	target, _, uerr := h.c.Identity.UserByLoginID(r.Context(), r.PathValue("login_id"))
	if uerr == nil && target.OrganizationID != p.Organization.ID {
		uerr = identity.ErrNotFound
	}
	if uerr != nil {
		h.refuseMember(w, r, p, uerr)
		return
	}
	if target.Role == identity.RoleMaster && target.ID != p.User.ID {
		h.refuseMember(w, r, p, identity.ErrForbidden)
		return
	}
	c, cerr := h.c.Certs.CurrentCertificate(r.Context(), target.ID)
	now := h.c.Now()
	if errors.Is(cerr, certs.ErrNotFound) || (cerr == nil && !c.Active(now)) {
		cerr = certs.ErrNoActiveCertificate
	}
	if cerr != nil {
		h.refuseMember(w, r, p, cerr)
		return
	}
	d := revokePage{
		LoginID: target.LoginID, Name: target.Name, RoleKey: roleKeys[target.Role], Self: target.ID == p.User.ID,
		Serial: c.Serial, NotBefore: c.NotBefore, NotAfter: c.NotAfter, DaysLeft: c.DaysLeft(now),
	}
	status := http.StatusOK
	v := &view{Member: memberOf(p), Page: "users"}
	if err != nil {
		status, v.Errors = h.refusal(r, err)
		if r.PostForm != nil {
			if _, ok := reasonKeys[r.PostForm.Get("reason")]; ok {
				d.Reason = r.PostForm.Get("reason")
			}
		}
	}
	v.Data = d
	h.render(w, r, status, "users_revoke", v)
}
