package api

import (
	"net/http"

	"kinko/internal/banking"
	"kinko/internal/zengin"
)

// The names of banks and branches (金融機関・支店の検索), for the forms of
// programs and of the portal's pages.

// maxBankResults bounds a search's answer.
const maxBankResults = 20

type bankJSON struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Kana string `json:"kana"`
}

// searchBanks is GET /api/v1/banks?q=: at most 20 banks whose code begins
// with q, or whose name or kana (any width, or hiragana) holds it.
func (a *API) searchBanks(w http.ResponseWriter, r *http.Request) error {
	dir := a.c.Banking.Banks()
	out := []bankJSON{}
	for _, b := range dir.SearchBanks(r.URL.Query().Get("q"), maxBankResults) {
		out = append(out, bankJSON(b))
	}
	writeJSON(w, http.StatusOK, map[string]any{"banks": out, "source": dir.Source()})
	return nil
}

// searchBranches is GET /api/v1/banks/{code}/branches?q=: the bank and at
// most 20 of its branches that match q as for banks. An unknown bank is
// 404 unknown_bank.
func (a *API) searchBranches(w http.ResponseWriter, r *http.Request) error {
	dir := a.c.Banking.Banks()
	code := r.PathValue("code")
	bank, ok := dir.Bank(code)
	if !ok {
		return banking.ErrUnknownBank
	}
	list, _ := dir.SearchBranches(code, r.URL.Query().Get("q"), maxBankResults)
	out := []bankJSON{}
	for _, b := range list {
		out = append(out, bankJSON(zengin.Bank(b)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"bank": bankJSON(bank), "branches": out, "source": dir.Source()})
	return nil
}
