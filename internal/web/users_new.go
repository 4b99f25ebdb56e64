package web

import (
	"net/http"
	"strings"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// newUserPage is the data of the form that adds a general user.
type newUserPage struct {
	LoginID, Name, Email string // as typed
	General              int    // general users now
	MaxGeneral           int
	Full                 bool
}

// createdUserPage is the data of the page that shows a new user's
// initial passwords, once.
type createdUserPage struct {
	LoginID, Name        string
	Password             string
	ConfirmationPassword string
	CertificateLogin     bool
}

// newUserForm is GET /users/new (master only): add a general user (R6: at
// most 19), with the login ID rules and the limit explained.
func (h *Handler) newUserForm(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.restoreTyped(r)
	h.renderNewUser(w, r, p, nil)
}

// createUser is POST /users/new (master only), with the master's
// confirmation password: the general user is created and the initial
// passwords are shown once, on a page that is not stored.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	f := r.PostForm
	loginID, name, email := strings.TrimSpace(f.Get("login_id")), strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("email"))
	confirmation := f.Get("confirmation_password")
	if loginID == "" || name == "" || email == "" || confirmation == "" {
		h.renderNewUser(w, r, p, httpedge.ErrRequired)
		return
	}
	// What can be checked without the password first, so that a slip in
	// a field costs no password attempt.
	for _, err := range []error{identity.ValidateLoginID(loginID), identity.ValidateName(name), identity.ValidateEmail(email)} {
		if err != nil {
			h.renderNewUser(w, r, p, err)
			return
		}
	}
	general, err := h.generalUsers(r, p)
	if err != nil {
		h.renderNewUser(w, r, p, err)
		return
	}
	if general >= identity.MaxGeneralUsers {
		h.renderNewUser(w, r, p, identity.ErrOrganizationUserLimit)
		return
	}
	if err := h.c.Identity.CheckPassword(r.Context(), p.User, identity.ConfirmationPassword, confirmation, "user management"); err != nil {
		if h.lockedOut(w, r, err) {
			return
		}
		h.renderNewUser(w, r, p, err)
		return
	}
	u, pw, err := h.c.Identity.CreateGeneralUser(r.Context(), p.User, loginID, name, email)
	if err != nil {
		h.renderNewUser(w, r, p, err)
		return
	}
	h.render(w, r, http.StatusOK, "users_created", &view{Member: memberOf(p), Page: "users", Data: createdUserPage{
		LoginID: u.LoginID, Name: u.Name, Password: pw.Password, ConfirmationPassword: pw.ConfirmationPassword,
		CertificateLogin: p.Organization.CertificateLogin,
	}})
}

// generalUsers counts the organization's general users.
func (h *Handler) generalUsers(r *http.Request, p auth.Principal) (int, error) {
	list, err := h.c.Identity.ListUsers(r.Context(), p.Organization.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range list {
		if u.Role == identity.RoleGeneral {
			n++
		}
	}
	return n, nil
}

// renderNewUser shows the form, after a refusal with its reason and what
// was typed (the password excepted).
func (h *Handler) renderNewUser(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	general, gerr := h.generalUsers(r, p)
	if gerr != nil {
		h.refuseMember(w, r, p, gerr)
		return
	}
	d := newUserPage{General: general, MaxGeneral: identity.MaxGeneralUsers, Full: general >= identity.MaxGeneralUsers}
	status := http.StatusOK
	v := &view{Member: memberOf(p), Page: "users"}
	if err != nil {
		status, v.Errors = h.refusal(r, err)
	}
	if r.PostForm != nil {
		d.LoginID, d.Name, d.Email = r.PostForm.Get("login_id"), r.PostForm.Get("name"), r.PostForm.Get("email")
	}
	v.Data = d
	h.render(w, r, status, "users_new", v)
}
