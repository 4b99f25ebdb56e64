package web

import (
	"net/http"

	"kinko/internal/auth"
)

// pathAccounts is 残高照会.
const pathAccounts = "/accounts"

// accountsPage is the data of 残高照会.
type accountsPage struct {
	Accounts []accountView
	Total    money
	AsOf     string // the time of the balances, formatted
}

// accounts is GET /accounts (inquiry privilege): the organization's
// accounts with their balances, each with a link to its statement.
func (h *Handler) accounts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	as, err := h.c.Banking.Accounts(r.Context(), p.User)
	if err != nil {
		return err
	}
	d := accountsPage{AsOf: h.cat.dateTime(language(r), h.c.Now())}
	for _, a := range as {
		d.Accounts = append(d.Accounts, accountOf(a))
		d.Total += money(a.Balance)
	}
	h.render(w, r, http.StatusOK, "accounts", &view{Member: memberOf(p), Page: "accounts", Data: d})
	return nil
}
