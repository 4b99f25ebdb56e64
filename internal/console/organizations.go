package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/width"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/operators"
)

// searchLimit is the most organizations a search shows.
const searchLimit = 50

// search is GET /?q=: one box that finds an organization by its code, a
// part of its name (kana or kanji), a user's login ID, a certificate's
// serial or an account's number.
func (h *handler) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	type data struct {
		Query   string
		Done    bool
		Results []identity.Organization
	}
	d := data{Query: q}
	if q != "" {
		orgs, err := h.searchOrganizations(r, q)
		if err != nil {
			h.renderError(w, r, err)
			return
		}
		d.Done, d.Results = true, orgs
	}
	h.render(w, r, http.StatusOK, "search", &view{Data: d})
}

// searchOrganizations finds the organizations q names as typed and, when
// it differs, as its width-folded form: half-width katakana typed as on a
// passbook (ｶﾅ) finds a name in full-width (カナ), and full-width digits
// (１２３) find a code or number.
func (h *handler) searchOrganizations(r *http.Request, q string) ([]identity.Organization, error) {
	orgs, err := h.c.Store.SearchOrganizations(r.Context(), q, searchLimit)
	if err != nil {
		return nil, err
	}
	folded := width.Fold.String(q)
	if folded == q {
		return orgs, nil
	}
	more, err := h.c.Store.SearchOrganizations(r.Context(), folded, searchLimit)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, o := range orgs {
		seen[o.Code] = true
	}
	for _, o := range more {
		if !seen[o.Code] && len(orgs) < searchLimit {
			orgs = append(orgs, o)
		}
	}
	slices.SortFunc(orgs, func(a, b identity.Organization) int { return strings.Compare(a.Code, b.Code) })
	return orgs, nil
}

// orgUser is a user on the organization's page.
type orgUser struct {
	identity.User
	Certificates []orgCertificate
}

// orgCertificate is a certificate on the organization's page.
type orgCertificate struct {
	certs.Certificate
	Expired   bool
	LastLogin time.Time
}

// orgAccount is an account on the organization's page.
type orgAccount struct {
	banking.Account
}

// orgTransfer is a transfer on the organization's page, its paying
// account by number, never by internal ID.
type orgTransfer struct {
	banking.Transfer
	From string
}

// organization is GET /organizations/{code}: an organization by its code,
// with its users (role, status, locked), their certificates (status,
// expiry, last login), its accounts with their balances, its latest
// transfers and its audit trail. No internal ID is shown.
func (h *handler) organization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	org, err := h.c.Identity.OrganizationByCode(ctx, r.PathValue("code"))
	if errors.Is(err, identity.ErrNotFound) {
		h.renderError(w, r, errNotFound)
		return
	}
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	users, err := h.c.Identity.ListUsers(ctx, org.ID)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	list, err := h.c.Certs.List(ctx, org.ID)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	logins, err := h.c.Store.LastCertificateLogins(ctx, org.ID)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	now := h.c.Now()
	byUser := map[int64][]orgCertificate{}
	for _, c := range list {
		byUser[c.UserID] = append(byUser[c.UserID], orgCertificate{Certificate: c, Expired: c.Expired(now), LastLogin: logins[c.Serial]})
	}
	var ous []orgUser
	for _, u := range users {
		ous = append(ous, orgUser{User: u, Certificates: byUser[u.ID]})
	}
	accounts, err := h.c.Banking.OrganizationAccounts(ctx, org.Code)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	numbers := map[int64]string{}
	var oas []orgAccount
	for _, a := range accounts {
		numbers[a.ID] = a.BranchCode + "-" + a.Number
		oas = append(oas, orgAccount{a})
	}
	transfers, total, err := h.c.Store.Transfers(ctx, banking.TransferFilter{OrganizationID: org.ID, Limit: 50})
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	var ots []orgTransfer
	for _, t := range transfers {
		ots = append(ots, orgTransfer{Transfer: t, From: numbers[t.FromAccountID]})
	}
	trail, err := h.c.Store.AuditEntries(ctx, audit.Query{OrganizationCode: org.Code, Limit: 50})
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	limit, err := h.c.Banking.OrganizationDailyLimit(ctx, org.ID)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	requests, err := h.c.Operators.List(ctx, operators.Filter{OrganizationCode: org.Code, Limit: 20})
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	v := &view{}
	if r.URL.Query().Get("opened") == "1" {
		v.Notice = "console.account.opened"
	}
	v.Data = struct {
		Org            identity.Organization
		Users          []orgUser
		Accounts       []orgAccount
		Transfers      []orgTransfer
		TransfersTotal int
		Trail          []audit.Entry
		DailyLimit     int64
		Requests       []operators.Request
	}{org, ous, oas, ots, total, trail, limit, requests}
	h.render(w, r, http.StatusOK, "organization", v)
}
