package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// pathUsers is the master user's page of the organization's users.
const pathUsers = "/users"

// usersPage is the data of the users page.
type usersPage struct {
	Users      []userRow
	General    int // general users now
	MaxGeneral int
	Full       bool // no more general users can be added (R6)
	// CertificateLogin: the organization uses certificate login.
	CertificateLogin bool
	Notice           *usersNotice
}

// userRow is one user of the users page.
type userRow struct {
	LoginID  string
	Name     string
	RoleKey  string
	Master   bool
	Self     bool // the logged-in master user
	Locked   bool
	LockedAt time.Time
	Cert     certificateStatus
}

// Certificate states on the users page.
const (
	certNone    = "none"
	certActive  = "active"
	certRevoked = "revoked"
	certExpired = "expired"
)

// certificateStatus is a user's latest certificate in plain words.
type certificateStatus struct {
	State     string // certNone, certActive, certRevoked or certExpired
	Serial    string
	NotBefore time.Time
	NotAfter  time.Time
	DaysLeft  int
	RevokedAt time.Time
	ReasonKey string // catalogue key of the revocation reason
}

// reasonKeys are the catalogue keys of the RFC 5280 revocation reasons in
// plain words; the revocation form offers the same.
var reasonKeys = map[string]string{
	"superseded":           "users.reason.superseded",
	"cessationOfOperation": "users.reason.cessationOfOperation",
	"keyCompromise":        "users.reason.keyCompromise",
	"affiliationChanged":   "users.reason.affiliationChanged",
	"unspecified":          "users.reason.unspecified",
}

// usersNotice is the confirmation that the users page shows once after a
// revocation or an unlock.
type usersNotice struct {
	Kind    string // noticeRevoked, noticeRevokedOwn or noticeUnlocked
	LoginID string
	Name    string
}

// Kinds of notices.
const (
	noticeRevoked    = "revoked"
	noticeRevokedOwn = "revoked_own"
	noticeUnlocked   = "unlocked"
)

// users is GET /users (master only): the organization's users, the master
// first, each with their lock and the state of their certificate, and the
// actions on them.
func (h *Handler) users(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.renderUsers(w, r, p, http.StatusOK, nil, h.takeNotice(w, r))
}

// renderUsers shows the users page; err, if any, is why an action on it
// was refused.
func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, err error, n *usersNotice) {
	list, lerr := h.c.Identity.ListUsers(r.Context(), p.Organization.ID)
	if lerr != nil {
		h.refuseMember(w, r, p, lerr)
		return
	}
	latest, lerr := h.latestCertificates(r, p.Organization.ID)
	if lerr != nil {
		h.refuseMember(w, r, p, lerr)
		return
	}
	now := h.c.Now()
	d := usersPage{MaxGeneral: identity.MaxGeneralUsers, CertificateLogin: p.Organization.CertificateLogin}
	for _, u := range list {
		if u.Role == identity.RoleGeneral {
			d.General++
		}
		row := userRow{
			LoginID: u.LoginID, Name: u.Name, RoleKey: roleKeys[u.Role], Master: u.Role == identity.RoleMaster,
			Self: u.ID == p.User.ID, Locked: u.Locked(), LockedAt: u.LockedAt, Cert: certificateStatus{State: certNone},
		}
		if c, ok := latest[u.ID]; ok {
			row.Cert = statusOf(c, now)
		}
		if n != nil && n.LoginID == u.LoginID {
			n.Name = u.Name
		}
		d.Users = append(d.Users, row)
	}
	d.Full = d.General >= identity.MaxGeneralUsers
	if n != nil && (n.Name != "" || n.Kind == noticeRevokedOwn) {
		d.Notice = n
	}
	v := &view{Member: memberOf(p), Page: "users", Data: d}
	if err != nil {
		status, v.Errors = h.refusal(r, err)
	}
	h.render(w, r, status, "users", v)
}

// latestCertificates returns each user's newest certificate that was
// signed (a record whose signature never came is no certificate).
func (h *Handler) latestCertificates(r *http.Request, organizationID int64) (map[int64]certs.Certificate, error) {
	list, err := h.c.Certs.List(r.Context(), organizationID)
	if err != nil {
		return nil, err
	}
	latest := map[int64]certs.Certificate{}
	for _, c := range list { // newest first
		if len(c.DER) == 0 {
			continue
		}
		if _, ok := latest[c.UserID]; !ok {
			latest[c.UserID] = c
		}
	}
	return latest, nil
}

// statusOf is a certificate's state at now in plain words.
func statusOf(c certs.Certificate, now time.Time) certificateStatus {
	s := certificateStatus{Serial: c.Serial, NotBefore: c.NotBefore, NotAfter: c.NotAfter}
	switch {
	case c.Status == certs.StatusRevoked:
		s.State, s.RevokedAt = certRevoked, c.RevokedAt
		s.ReasonKey = reasonKeys[c.RevocationReason]
		if s.ReasonKey == "" {
			s.ReasonKey = reasonKeys["unspecified"]
		}
	case c.Status != certs.StatusIssued:
		s.State = certNone
	case c.Expired(now):
		s.State = certExpired
	default:
		s.State, s.DaysLeft = certActive, c.DaysLeft(now)
	}
	return s
}

// master wraps a page that only the master user may see: a general user
// gets a page that says that only the master user can do this.
func (h *Handler) master(next sessionHandler) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
		if p.User.Role != identity.RoleMaster {
			h.refuseMember(w, r, p, identity.ErrForbidden)
			return
		}
		next(w, r, p)
	}
}

// usersRefusedPage is the data of the page of a refused request on the
// users pages.
type usersRefusedPage struct {
	General bool // the user is a general user: ask the master user
	Back    bool // link back to the users page
}

// refuseMember shows a logged-in user why a request on the users pages was
// refused (no such user, only the master user can do this), with the menu.
func (h *Handler) refuseMember(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	status, msgs := h.refusal(r, err)
	master := p.User.Role == identity.RoleMaster
	h.render(w, r, status, "users_refused", &view{Member: memberOf(p), Page: "users", Errors: msgs,
		Data: usersRefusedPage{General: !master, Back: master}})
}

// inSession turns a form page that needs the session into the refusal of
// form: the page is shown again, in the user's session, with the reason.
func (h *Handler) inSession(show func(w http.ResponseWriter, r *http.Request, p auth.Principal, err error)) func(w http.ResponseWriter, r *http.Request, err error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		h.session(h.master(func(w http.ResponseWriter, r *http.Request, p auth.Principal) { show(w, r, p, err) }), 0)(w, r)
	}
}

// lockedOut ends the session of a master user who has just locked
// themselves out with wrong confirmation passwords, and says what to do.
func (h *Handler) lockedOut(w http.ResponseWriter, r *http.Request, err error) bool {
	if !errors.Is(err, identity.ErrAccountLocked) {
		return false
	}
	h.c.Listener.ClearSession(w)
	h.renderError(w, r, err)
	return true
}

// The notice of the users page travels to the next GET /users in a cookie
// (one per listener), read once: a reload does not show it again.
func (h *Handler) noticeCookie() string {
	if h.c.Listener == httpedge.CertPortal {
		return "__Host-kinko-cert-notice"
	}
	return "__Host-kinko-notice"
}

// setNotice keeps a notice for the next users page.
func (h *Handler) setNotice(w http.ResponseWriter, kind, loginID string) {
	http.SetCookie(w, &http.Cookie{Name: h.noticeCookie(), Value: kind + "." + loginID, Path: "/", MaxAge: 300,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// takeNotice returns the kept notice, if any, and forgets it.
func (h *Handler) takeNotice(w http.ResponseWriter, r *http.Request) *usersNotice {
	c, err := r.Cookie(h.noticeCookie())
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: h.noticeCookie(), Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	kind, loginID, _ := strings.Cut(c.Value, ".")
	switch kind {
	case noticeRevoked, noticeRevokedOwn, noticeUnlocked:
	default:
		return nil
	}
	if identity.ValidateLoginID(loginID) != nil {
		return nil
	}
	return &usersNotice{Kind: kind, LoginID: loginID}
}
