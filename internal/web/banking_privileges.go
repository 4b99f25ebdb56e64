package web

import (
	"net/http"
	"net/url"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// privilegesPage is the data of the master's page of a general user's
// privileges and limits.
type privilegesPage struct {
	LoginID, Name    string
	Inquiry          bool
	TransferRequest  bool
	Approval         bool
	PayrollInquiry   bool   // 給与振込の照会
	TransactionLimit string // as typed
	DailyLimit       string
	OrganizationMax  money // the organization's daily limit, for reference
	Errors           map[string]string
	Saved            bool
}

// privilegesForm is GET /users/{login_id}/privileges (master only): what a
// general user may do in banking and up to which amounts.
func (h *Handler) privilegesForm(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	target, ok := h.privilegeTarget(w, r, p)
	if !ok {
		return nil
	}
	pr, err := h.c.Banking.Privileges(r.Context(), p.User, target.LoginID)
	if err != nil {
		return err
	}
	d := privilegesPage{Inquiry: pr.Inquiry, TransferRequest: pr.TransferRequest, Approval: pr.Approval, PayrollInquiry: pr.PayrollInquiry,
		TransactionLimit: money(pr.TransactionLimit).String(), DailyLimit: money(pr.DailyLimit).String(),
		Saved: r.URL.Query().Get("done") == "saved"}
	if h.restoreTyped(r) {
		// What was typed before the language was switched.
		f := r.PostForm
		d = privilegesPage{Inquiry: f.Get("inquiry") != "", TransferRequest: f.Get("transfer_request") != "",
			Approval: f.Get("approval") != "", TransactionLimit: f.Get("transaction_limit"), DailyLimit: f.Get("daily_limit"),
			PayrollInquiry: f.Get("payroll_inquiry") != ""}
	}
	h.renderPrivileges(w, r, p, target, http.StatusOK, d)
	return nil
}

// setPrivileges is POST /users/{login_id}/privileges (master only), with
// the master's confirmation password.
func (h *Handler) setPrivileges(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	target, ok := h.privilegeTarget(w, r, p)
	if !ok {
		return
	}
	f := r.PostForm
	d := privilegesPage{Inquiry: f.Get("inquiry") != "", TransferRequest: f.Get("transfer_request") != "",
		Approval: f.Get("approval") != "", TransactionLimit: f.Get("transaction_limit"), DailyLimit: f.Get("daily_limit"),
		PayrollInquiry: f.Get("payroll_inquiry") != "", Errors: map[string]string{}}
	tx, err := parseAmount(d.TransactionLimit)
	if err != nil {
		_, d.Errors["transaction_limit"] = h.bankingText(r, err)
	}
	daily, err := parseAmount(d.DailyLimit)
	if err != nil {
		_, d.Errors["daily_limit"] = h.bankingText(r, err)
	}
	confirmation := f.Get("confirmation_password")
	if confirmation == "" {
		_, d.Errors["confirmation_password"] = h.bankingText(r, httpedge.ErrRequired)
	}
	if len(d.Errors) > 0 {
		h.renderPrivileges(w, r, p, target, http.StatusBadRequest, d)
		return
	}
	if err := h.c.Identity.CheckPassword(r.Context(), p.User, identity.ConfirmationPassword, confirmation, "privilege change"); err != nil {
		if h.lockedOut(w, r, err) {
			return
		}
		status, text := h.bankingText(r, err)
		d.Errors["confirmation_password"] = text
		h.renderPrivileges(w, r, p, target, status, d)
		return
	}
	err = h.c.Banking.SetPrivileges(r.Context(), p.User, target.LoginID, banking.Privileges{Inquiry: d.Inquiry,
		TransferRequest: d.TransferRequest, Approval: d.Approval, PayrollInquiry: d.PayrollInquiry, TransactionLimit: tx, DailyLimit: daily})
	if err != nil {
		status, text := h.bankingText(r, err)
		d.Errors[""] = text
		h.renderPrivileges(w, r, p, target, status, d)
		return
	}
	http.Redirect(w, r, pathUsers+"/"+url.PathEscape(target.LoginID)+"/privileges?done=saved", http.StatusSeeOther)
}

// privilegeTarget returns the general user of the path, of the master's
// organization; anyone else gets a page that says so.
func (h *Handler) privilegeTarget(w http.ResponseWriter, r *http.Request, p auth.Principal) (identity.User, bool) {
	u, _, err := h.c.Identity.UserByLoginID(r.Context(), r.PathValue("login_id"))
	if err == nil && u.OrganizationID != p.Organization.ID {
		err = identity.ErrNotFound
	}
	if err == nil && u.Role == identity.RoleMaster {
		err = identity.ErrForbidden
	}
	if err != nil {
		h.refuseMember(w, r, p, err)
		return identity.User{}, false
	}
	return u, true
}

func (h *Handler) renderPrivileges(w http.ResponseWriter, r *http.Request, p auth.Principal, target identity.User, status int, d privilegesPage) {
	limit, err := h.c.Banking.OrganizationDailyLimit(r.Context(), p.Organization.ID)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	d.LoginID, d.Name, d.OrganizationMax = target.LoginID, target.Name, money(limit)
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	h.render(w, r, status, "privileges", &view{Member: memberOf(p), Page: "users", Data: d})
}
