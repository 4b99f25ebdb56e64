package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/httpedge"
)

// statementPage is the data of 入出金明細.
type statementPage struct {
	Account  accountView
	From, To string // the period as the form shows it (2006-01-02)
	Error    string // why the period was refused
	Rows     []postingRow
	Total    int
	Pager    pager
	CSVUTF8  string // download links
	CSVSJIS  string
	Searched bool
}

// postingRow is one line of the statement.
type postingRow struct {
	Date        time.Time
	Description string
	Out, In     money // お支払金額, お預り金額; one of them 0
	HasOut      bool
	HasIn       bool
	Balance     money
}

// statementPeriod reads ?from=&to= of a statement; without them, this month
// so far.
func (h *Handler) statementPeriod(r *http.Request) (from, to calendar.Date, err error) {
	q := r.URL.Query()
	today := calendar.DateOf(h.c.Now())
	if q.Get("from") == "" && q.Get("to") == "" {
		return calendar.Date{Year: today.Year, Month: today.Month, Day: 1}, today, nil
	}
	if from, err = parseDay(q.Get("from")); err != nil {
		return calendar.Date{}, calendar.Date{}, err
	}
	if to, err = parseDay(q.Get("to")); err != nil {
		return calendar.Date{}, calendar.Date{}, err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return calendar.Date{}, calendar.Date{}, httpedge.ErrDateRange
	}
	return from, to, nil
}

// statement is GET /accounts/{id}/statement?from=&to=&page= (inquiry
// privilege): the postings of the period, oldest first like a passbook, a
// page at a time, with links to download them as CSV.
func (h *Handler) statement(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.c.Banking.Account(r.Context(), p.User, id)
	if err != nil {
		return err
	}
	d := statementPage{Account: accountOf(a), From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
	status := http.StatusOK
	from, to, perr := h.statementPeriod(r)
	if perr != nil {
		status, d.Error = h.bankingText(r, perr)
		h.render(w, r, status, "statement", &view{Member: memberOf(p), Page: "accounts", Data: d})
		return nil
	}
	d.From, d.To, d.Searched = from.String(), to.String(), true
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	tp, err := h.c.Banking.Transactions(r.Context(), p.User, id, from, to, page, 0)
	if err != nil {
		return err
	}
	d.Account, d.Total = accountOf(tp.Account), tp.Total
	for _, ps := range tp.Postings {
		row := postingRow{Date: ps.Date.Time(), Description: ps.Description, Balance: money(ps.BalanceAfter)}
		if ps.Amount < 0 {
			row.Out, row.HasOut = money(-ps.Amount), true
		} else {
			row.In, row.HasIn = money(ps.Amount), true
		}
		d.Rows = append(d.Rows, row)
	}
	base := fmt.Sprintf("/accounts/%d/statement", id)
	q := url.Values{"from": {d.From}, "to": {d.To}}
	d.Pager = pager{Page: tp.Page, Pages: tp.Pages()}
	if tp.Page > 1 {
		q.Set("page", strconv.Itoa(tp.Page-1))
		d.Pager.Prev = base + "?" + q.Encode()
	}
	if tp.Page < tp.Pages() {
		q.Set("page", strconv.Itoa(tp.Page+1))
		d.Pager.Next = base + "?" + q.Encode()
	}
	q.Del("page")
	q.Set("encoding", "utf-8")
	d.CSVUTF8 = base + ".csv?" + q.Encode()
	q.Set("encoding", "shift_jis")
	d.CSVSJIS = base + ".csv?" + q.Encode()
	h.render(w, r, status, "statement", &view{Member: memberOf(p), Page: "accounts", Data: d})
	return nil
}

// statementCSV is GET /accounts/{id}/statement.csv?from=&to=&encoding=
// (inquiry privilege): every posting of the period as CSV, in UTF-8 or
// Shift_JIS (for older spreadsheets).
func (h *Handler) statementCSV(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	enc := r.URL.Query().Get("encoding")
	if enc == "" {
		enc = "utf-8"
	}
	from, to, err := h.statementPeriod(r)
	if err != nil {
		return err
	}
	a, ps, err := h.c.Banking.AllTransactions(r.Context(), p.User, id, from, to)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := banking.StatementCSV(&buf, ps, enc); err != nil {
		return err
	}
	charset, suffix := "utf-8", ""
	if enc == "shift_jis" {
		charset, suffix = "Shift_JIS", "_sjis"
	}
	name := fmt.Sprintf("statement_%s_%s_%s_%s%s.csv", a.BranchCode, a.Number, dayOrAll(from), dayOrAll(to), suffix)
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset="+charset)
	hd.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	hd.Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}

// dayOrAll writes a bound of a period for a file name.
func dayOrAll(d calendar.Date) string {
	if d.IsZero() {
		return "all"
	}
	return fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day)
}
