package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"kinko/internal/operators"
)

// kinds are the kinds of written requests, in the order of the forms.
var kinds = []operators.Kind{
	operators.KindOrganizationCreate, operators.KindCertificateLogin, operators.KindCertificateRevoke,
	operators.KindUserUnlock, operators.KindPasswordReset, operators.KindDeposit, operators.KindLimitSet,
}

// revocationReasons are the reasons a revocation names (RFC 5280).
var revocationReasons = []string{"unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation"}

// field reads a trimmed form field.
func field(f url.Values, name string) string { return strings.TrimSpace(f.Get(name)) }

// need returns errRequired unless every value is non-empty.
func required(vs ...string) error {
	for _, v := range vs {
		if v == "" {
			return errRequired
		}
	}
	return nil
}

// amount reads a number of yen, which may have separators.
func amount(s string) (int64, error) {
	s = strings.NewReplacer(",", "", "，", "", "円", "", " ", "").Replace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errNumber
	}
	return n, nil
}

// paramsOf reads the parameters of a request of kind k from a form. The
// rules of each (a valid login ID, an amount above zero) are the
// operators' service's; this only reads the fields.
func paramsOf(k operators.Kind, f url.Values) (any, error) {
	switch k {
	case operators.KindOrganizationCreate:
		p := operators.OrganizationCreate{Name: field(f, "name"), MasterLoginID: field(f, "master_login_id"),
			MasterName: field(f, "master_name"), MasterEmail: field(f, "master_email")}
		return p, required(p.Name, p.MasterLoginID, p.MasterName, p.MasterEmail)
	case operators.KindCertificateLogin:
		p := operators.CertificateLogin{OrganizationCode: field(f, "organization_code"), Enable: f.Get("enable") == "on"}
		if e := f.Get("enable"); e != "on" && e != "off" {
			return p, errRequired
		}
		return p, required(p.OrganizationCode)
	case operators.KindCertificateRevoke:
		p := operators.CertificateRevoke{Serial: serialOf(field(f, "serial")), Reason: field(f, "reason")}
		return p, required(p.Serial, p.Reason)
	case operators.KindUserUnlock:
		p := operators.UserUnlock{LoginID: field(f, "login_id")}
		return p, required(p.LoginID)
	case operators.KindPasswordReset:
		p := operators.PasswordReset{LoginID: field(f, "login_id")}
		return p, required(p.LoginID)
	case operators.KindDeposit:
		p := operators.Deposit{BranchCode: field(f, "branch_code"), AccountType: field(f, "account_type"),
			AccountNumber: field(f, "account_number"), Description: field(f, "description")}
		if err := required(p.BranchCode, p.AccountType, p.AccountNumber, field(f, "amount")); err != nil {
			return p, err
		}
		n, err := amount(field(f, "amount"))
		p.Amount = n
		return p, err
	case operators.KindLimitSet:
		p := operators.LimitSet{OrganizationCode: field(f, "organization_code")}
		if err := required(p.OrganizationCode, field(f, "daily")); err != nil {
			return p, err
		}
		n, err := amount(field(f, "daily"))
		p.Daily = n
		return p, err
	}
	return nil, errNotFound
}

// serialOf is a serial as a certificate viewer shows it (with colons,
// upper case, a leading zero) in the form the bank records it: lowercase
// hex without separators or leading zeros.
func serialOf(s string) string {
	s = strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(s))
	if t := strings.TrimLeft(s, "0"); t != "" {
		return t
	}
	return s
}

// formKind returns the kind of the path, or false.
func formKind(r *http.Request) (operators.Kind, bool) {
	k := operators.Kind(r.PathValue("kind"))
	return k, slices.Contains(kinds, k)
}

// requestFormData is the data of a request's form.
type requestFormData struct {
	Kind    operators.Kind
	Reasons []string
}

// requestForm is GET /file/{kind}: the form of a written request,
// filled from the query (the organization page links to it with the
// organization's code or the user's login ID).
func (h *handler) requestForm(w http.ResponseWriter, r *http.Request) {
	k, ok := formKind(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	h.render(w, r, http.StatusOK, "request_new", &view{Form: r.URL.Query(), Data: requestFormData{k, revocationReasons}})
}

// renderRequestForm shows a request's form again.
func (h *handler) renderRequestForm(w http.ResponseWriter, r *http.Request, err error) {
	k, ok := formKind(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	status, v := formView(r, err, requestFormData{k, revocationReasons})
	h.render(w, r, status, "request_new", v)
}

// fileRequest is POST /file/{kind}: the operator files the
// written request; it waits for a second operator.
func (h *handler) fileRequest(w http.ResponseWriter, r *http.Request) error {
	k, ok := formKind(r)
	if !ok {
		return errNotFound
	}
	ref := field(r.PostForm, "ref")
	params, err := paramsOf(k, r.PostForm)
	if err != nil {
		return err
	}
	if ref == "" {
		return errRequired
	}
	st, _ := staffFrom(r)
	req, err := h.c.Operators.File(r.Context(), st, k, ref, params)
	if err != nil {
		return err
	}
	http.Redirect(w, r, pathRequests+"/"+strconv.FormatInt(req.ID, 10)+"?filed=1", http.StatusSeeOther)
	return nil
}

// requests is GET /requests: the written requests, pending first, and the
// links to file a new one.
func (h *handler) requests(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pending, err := h.c.Operators.List(ctx, operators.Filter{Status: operators.StatusPending, Limit: 200})
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	all, err := h.c.Operators.List(ctx, operators.Filter{Limit: 200})
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	var decided []operators.Request
	for _, q := range all {
		if q.Status != operators.StatusPending {
			decided = append(decided, q)
		}
	}
	h.render(w, r, http.StatusOK, "requests", &view{Data: struct {
		Kinds            []operators.Kind
		Pending, Decided []operators.Request
	}{kinds, pending, decided}})
}

// requestData is the data of a request's page.
type requestData struct {
	Request   operators.Request
	Params    []param
	CanDecide bool // the operator is an approver who is not the maker, and it is pending
}

// param is one parameter of a request, shown by its name.
type param struct {
	Key   string // catalogue key of its name
	Value string
}

// paramsView lists a request's parameters for its page.
func paramsView(q operators.Request) []param {
	var m map[string]any
	if err := json.Unmarshal(q.Params, &m); err != nil {
		return nil
	}
	var out []param
	for _, k := range []string{"name", "master_login_id", "master_name", "master_email", "organization_code", "enable", "serial",
		"reason", "login_id", "branch_code", "account_type", "account_number", "amount", "daily", "description"} {
		v, ok := m[k]
		if !ok {
			continue
		}
		s := ""
		switch x := v.(type) {
		case float64:
			s = yen(int64(x))
		case bool:
			s = "off"
			if x {
				s = "on"
			}
		case string:
			s = x
		}
		out = append(out, param{Key: "console.field." + k, Value: s})
	}
	return out
}

// loadRequest returns the request of the path.
func (h *handler) loadRequest(r *http.Request) (operators.Request, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return operators.Request{}, errNotFound
	}
	return h.c.Operators.Get(r.Context(), id)
}

func (h *handler) requestView(r *http.Request, q operators.Request) requestData {
	st, _ := staffFrom(r)
	return requestData{Request: q, Params: paramsView(q),
		CanDecide: canDecide(st) && st.Name != q.Maker && q.Status == operators.StatusPending}
}

// request is GET /requests/{id}: a written request, with the approval
// and rejection for an approver who is not its maker.
func (h *handler) request(w http.ResponseWriter, r *http.Request) {
	q, err := h.loadRequest(r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	v := &view{Data: h.requestView(r, q)}
	if r.URL.Query().Get("filed") == "1" {
		v.Notice = "console.request.filed"
	}
	h.render(w, r, http.StatusOK, "request", v)
}

// renderRequestAgain shows a request's page again after a refused
// decision, with the reason typed.
func (h *handler) renderRequestAgain(w http.ResponseWriter, r *http.Request, err error) {
	q, lerr := h.loadRequest(r)
	if lerr != nil {
		h.renderError(w, r, lerr)
		return
	}
	status, v := formView(r, err, h.requestView(r, q))
	h.render(w, r, status, "request", v)
}

// noticeData is the data of the 暗証番号通知書.
type noticeData struct {
	Request          operators.Request
	OrganizationCode string
	OrganizationName string
	LoginID          string
	Password         string
	Confirmation     string
}

// approve is POST /requests/{id}/approve: an approver who is not the
// maker approves; the action is carried out. For a new organization or a
// password reset the new initial passwords are shown this once, on the
// printable notice to post to the master (暗証番号通知書).
func (h *handler) approve(w http.ResponseWriter, r *http.Request) error {
	q, err := h.loadRequest(r)
	if err != nil {
		return err
	}
	st, _ := staffFrom(r)
	q, out, err := h.c.Operators.Approve(r.Context(), st, q.ID)
	if err != nil {
		return err
	}
	if out.Passwords == nil {
		http.Redirect(w, r, pathRequests+"/"+strconv.FormatInt(q.ID, 10), http.StatusSeeOther)
		return nil
	}
	d := noticeData{Request: q, OrganizationCode: out.OrganizationCode, LoginID: out.LoginID,
		Password: out.Passwords.Password, Confirmation: out.Passwords.ConfirmationPassword}
	if d.OrganizationCode == "" {
		d.OrganizationCode = q.OrganizationCode
	}
	if d.LoginID == "" {
		// The login ID the request names: the reset master's, or the
		// new organization's master's.
		var p struct {
			LoginID       string `json:"login_id"`
			MasterLoginID string `json:"master_login_id"`
		}
		_ = json.Unmarshal(q.Params, &p)
		d.LoginID = p.LoginID + p.MasterLoginID
	}
	if org, err := h.c.Identity.OrganizationByCode(r.Context(), d.OrganizationCode); err == nil {
		d.OrganizationName = org.Name
	}
	h.render(w, r, http.StatusOK, "notice", &view{Data: d})
	return nil
}

// reject is POST /requests/{id}/reject: an approver who is not the maker
// rejects, with a reason.
func (h *handler) reject(w http.ResponseWriter, r *http.Request) error {
	q, err := h.loadRequest(r)
	if err != nil {
		return err
	}
	reason := field(r.PostForm, "reason")
	if reason == "" {
		return errRequired
	}
	st, _ := staffFrom(r)
	if _, err := h.c.Operators.Reject(r.Context(), st, q.ID, reason); err != nil {
		return err
	}
	http.Redirect(w, r, pathRequests+"/"+strconv.FormatInt(q.ID, 10), http.StatusSeeOther)
	return nil
}
