package console

import (
	"net/http"
	"time"

	"kinko/internal/operators"
)

// downloadTTL is how long a new operator's PKCS#12 waits for its one
// download.
const downloadTTL = 10 * time.Minute

// roles are the operators' roles, in the order of the form.
var roles = []operators.Role{operators.RoleClerk, operators.RoleApprover, operators.RoleAuditor}

// staffData is the data of the staff page.
type staffData struct {
	Staff []operators.Staff
	Roles []operators.Role
	// Added is the operator just added, with the one-time download of
	// their certificate and its file password.
	Added    *operators.Staff
	Download string
	Password string
}

func (h *handler) staffView(r *http.Request, err error, added *staffData) (int, *view, error) {
	list, lerr := h.c.Operators.ListStaff(r.Context())
	if lerr != nil {
		return 0, nil, lerr
	}
	d := staffData{Staff: list, Roles: roles}
	if added != nil {
		d.Added, d.Download, d.Password = added.Added, added.Download, added.Password
	}
	status, v := formView(r, err, d)
	return status, v, nil
}

// staff is GET /staff: the operators, and for an approver the form that
// adds one.
func (h *handler) staff(w http.ResponseWriter, r *http.Request) {
	status, v, err := h.staffView(r, nil, nil)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	v.Form = nil
	h.render(w, r, status, "staff", v)
}

func (h *handler) renderStaff(w http.ResponseWriter, r *http.Request, err error) {
	status, v, lerr := h.staffView(r, err, nil)
	if lerr != nil {
		h.renderError(w, r, lerr)
		return
	}
	h.render(w, r, status, "staff", v)
}

// addStaff is POST /staff: an approver adds an operator; their
// certificate is issued by the operator CA and its PKCS#12 file is
// downloaded once, with the file password shown on this page only.
func (h *handler) addStaff(w http.ResponseWriter, r *http.Request) error {
	n := operators.NewStaff{Name: field(r.PostForm, "name"), DisplayName: field(r.PostForm, "display_name"),
		Role: operators.Role(field(r.PostForm, "role"))}
	if err := required(n.Name, n.DisplayName, string(n.Role)); err != nil {
		return err
	}
	st, _ := staffFrom(r)
	added, err := h.c.Operators.AddStaff(r.Context(), n, st.Name)
	if err != nil {
		return err
	}
	d := &staffData{Added: &added}
	if h.c.OperatorCertificates != nil {
		p12, password, err := h.c.OperatorCertificates.Issue(r.Context(), added)
		if err != nil {
			return err
		}
		tok, err := h.random()
		if err != nil {
			return err
		}
		now := h.c.Now()
		h.mu.Lock()
		for k, d := range h.p12 {
			if now.After(d.expires) {
				delete(h.p12, k)
			}
		}
		h.p12[tok] = download{name: added.Name + ".p12", data: p12, expires: now.Add(downloadTTL)}
		h.mu.Unlock()
		d.Download, d.Password = pathStaff+"/certificate/"+tok, password
	}
	status, v, err := h.staffView(r, nil, d)
	if err != nil {
		return err
	}
	v.Form, v.Notice = nil, "console.staff.added"
	h.render(w, r, status, "staff", v)
	return nil
}

// downloadP12 is GET /staff/certificate/{token}: the new operator's
// PKCS#12, once.
func (h *handler) downloadP12(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	h.mu.Lock()
	d, ok := h.p12[tok]
	delete(h.p12, tok)
	h.mu.Unlock()
	if !ok || h.c.Now().After(d.expires) {
		h.renderError(w, r, errDownloadGone)
		return
	}
	w.Header().Set("Content-Type", "application/x-pkcs12")
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.name+`"`)
	_, _ = w.Write(d.data)
}
