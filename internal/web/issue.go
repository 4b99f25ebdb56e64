package web

import (
	"net/http"
	"strings"

	"kinko/internal/httpedge"
)

// issuance is GET /issue on the portal: 電子証明書発行 (R4, R11). The page
// itself only explains and holds the form; its script (static/js/issue.js)
// makes the key pair in the browser, sends the certificate signing request
// with the login ID and password to the API (POST /api/v1/certificates),
// and builds the PKCS#12 file in the page, so the private key never reaches
// the server. The messages the script shows are rendered into the page in
// its language; the link to certificate login goes to the certificate
// portal's address (view.CertPortalURL).
//
// Below the form, a plain form (no script needed) withdraws a certificate
// that was issued but never saved (withdrawCertificate).
func (h *Handler) issuance(w http.ResponseWriter, r *http.Request) {
	v := &view{Data: issuePage{}}
	if r.URL.Query().Get("withdrawn") == "1" {
		v.Notice = "page.issue.withdraw.done"
	}
	h.render(w, r, http.StatusOK, "issue", v)
}

// issuePage is what the issuance page shows of a refused withdrawal.
type issuePage struct {
	WithdrawLoginID string // as typed
	WithdrawErrors  []message
}

// withdrawCertificate is POST /issue/withdraw: the user withdraws, with the
// login ID and login password, the certificate issued to them that was
// never saved (never used to log in, issued at most a day ago), so that a
// new one can be issued. Done, it redirects to the issuance page, which
// says so; refused, the page shows why, with the login ID kept.
func (h *Handler) withdrawCertificate(w http.ResponseWriter, r *http.Request) {
	loginID, password := strings.TrimSpace(r.PostForm.Get("login_id")), r.PostForm.Get("password")
	if loginID == "" || password == "" {
		h.renderWithdrawal(w, r, httpedge.ErrRequired)
		return
	}
	release, err := h.c.PasswordChecks.Enter(r)
	if err != nil {
		h.renderWithdrawal(w, r, err)
		return
	}
	defer release()
	if _, err := h.c.Certs.Withdraw(r.Context(), loginID, password, httpedge.ClientAddress(r)); err != nil {
		h.renderWithdrawal(w, r, err)
		return
	}
	http.Redirect(w, r, pathIssue+"?withdrawn=1", http.StatusSeeOther)
}

func (h *Handler) renderWithdrawal(w http.ResponseWriter, r *http.Request, err error) {
	status, msgs := h.refusal(r, err)
	httpedge.SetRetryAfterOf(w, err)
	v := &view{Data: issuePage{WithdrawLoginID: truncate(strings.TrimSpace(r.PostForm.Get("login_id")), 64), WithdrawErrors: msgs}}
	h.render(w, r, status, "issue", v)
}
