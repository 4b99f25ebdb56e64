package web

import (
	"bytes"
	"fmt"
	"mime"
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
	// Downloads are the statement's CSV files, one per encoding.
	Downloads []download
	Searched  bool
	// Periods are the quick choices of period; Moved says that the
	// statement opened on the month of the latest entry, this month having
	// none.
	Periods []periodLink
	Moved   bool
}

// download is a link to a statement's CSV file.
type download struct {
	Encoding string // banking.Encodings
	Href     string
	Name     string // the file's name, as the server names it
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

// statementPeriod reads ?from=&to= of a statement. Without them it is this
// month so far, unless this month has no entries and an earlier month has:
// then the month of the latest entry (latest is its date, zero when the
// account has none), and moved says so.
func (h *Handler) statementPeriod(r *http.Request, latest calendar.Date) (from, to calendar.Date, moved bool, err error) {
	q := r.URL.Query()
	today := calendar.DateOf(h.c.Now())
	if q.Get("from") == "" && q.Get("to") == "" {
		month := firstOfMonth(today)
		if !latest.IsZero() && latest.Before(month) {
			from = firstOfMonth(latest)
			return from, calendar.NewDate(from.Year, from.Month+1, 0), true, nil
		}
		return month, today, false, nil
	}
	if from, err = parseDay(q.Get("from")); err != nil {
		return calendar.Date{}, calendar.Date{}, false, err
	}
	if to, err = parseDay(q.Get("to")); err != nil {
		return calendar.Date{}, calendar.Date{}, false, err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return calendar.Date{}, calendar.Date{}, false, httpedge.ErrDateRange
	}
	return from, to, false, nil
}

func firstOfMonth(d calendar.Date) calendar.Date {
	return calendar.Date{Year: d.Year, Month: d.Month, Day: 1}
}

// periodLink is a quick choice of period on the statement page.
type periodLink struct {
	Key  string // catalogue key of its label
	Href string
	ID   string
}

// periodLinks are 今月, 先月 and 過去3か月 (this month and the two before,
// up to today) of the statement at base.
func periodLinks(base string, today calendar.Date) []periodLink {
	month := firstOfMonth(today)
	last := calendar.NewDate(month.Year, month.Month-1, 1)
	link := func(from, to calendar.Date) string {
		return base + "?" + url.Values{"from": {from.String()}, "to": {to.String()}}.Encode()
	}
	return []periodLink{
		{Key: "page.statement.this_month", ID: "period-this-month", Href: link(month, today)},
		{Key: "page.statement.last_month", ID: "period-last-month", Href: link(last, month.AddDays(-1))},
		{Key: "page.statement.three_months", ID: "period-three-months", Href: link(calendar.NewDate(month.Year, month.Month-2, 1), today)},
	}
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
	base := fmt.Sprintf("/accounts/%d/statement", id)
	d := statementPage{Account: accountOf(a), From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to"),
		Periods: periodLinks(base, calendar.DateOf(h.c.Now()))}
	status := http.StatusOK
	latest, _, err := h.c.Banking.LatestPostingDate(r.Context(), p.User, id)
	if err != nil {
		return err
	}
	from, to, moved, perr := h.statementPeriod(r, latest)
	d.Moved = moved
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
	for _, enc := range banking.Encodings {
		q.Set("encoding", enc)
		d.Downloads = append(d.Downloads, download{Encoding: enc, Href: base + ".csv?" + q.Encode(),
			Name: banking.StatementFileName(tp.Account, from, to, calendar.DateOf(h.c.Now()), enc)})
	}
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
		enc = banking.EncodingUTF8
	}
	from, to, _, err := h.statementPeriod(r, calendar.Date{})
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
	name := banking.StatementFileName(a, from, to, calendar.DateOf(h.c.Now()), enc)
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset="+banking.StatementCharset(enc))
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	hd.Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}
