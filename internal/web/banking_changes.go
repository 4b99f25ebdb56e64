package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kinko/internal/banking"
	"kinko/internal/calendar"
)

// An approver's decision forms carry the version of the transfer or batch
// the page showed (hidden field "version"), which banking checks under the
// row's lock: a decision on a transfer that changed since is refused and
// nothing is done. They carry as well what the page showed of it (hidden
// field "shown"), only so that the page of the refusal can say what
// changed; it decides nothing.

// shownField is one fact of a transfer or batch as a decision form carries
// it: the catalogue key of its label, its value and how it is shown.
type shownField struct {
	key  string
	raw  string
	show func(l lang, raw string) string
}

// changeView is a fact that changed between the page the approver saw and
// now.
type changeView struct {
	LabelKey string
	Before   string
	After    string
}

// transferFields are the facts of t an approver decides on.
func (h *Handler) transferFields(d directory, t banking.Transfer) []shownField {
	p := t.Payee
	return []shownField{
		{"banking.field.amount", strconv.FormatInt(t.Amount, 10), h.showYen},
		{"banking.field.payee", strings.Join([]string{p.BankCode, p.BranchCode, string(p.AccountType), p.AccountNumber}, " "), h.showPayee},
		{"banking.field.payee_name", p.Name, showText},
		{"banking.field.execution_date", t.ExecutionDate.String(), h.showDate},
		{"banking.field.from_account", strconv.FormatInt(t.FromAccountID, 10), h.showAccount(d)},
		{"banking.field.memo", t.Memo, showText},
	}
}

// batchFields are the facts of b an approver decides on.
func (h *Handler) batchFields(d directory, b banking.Batch) []shownField {
	return []shownField{
		{"banking.col.total", strconv.FormatInt(b.Total, 10), h.showYen},
		{"banking.col.count", strconv.Itoa(b.Count), showText},
		{"banking.field.execution_date", b.ExecutionDate.String(), h.showDate},
		{"banking.field.from_account", strconv.FormatInt(b.FromAccountID, 10), h.showAccount(d)},
		{"banking.col.file", b.SourceFile, showText},
	}
}

// encodeShown is the value of the hidden field "shown".
func encodeShown(fs []shownField) string {
	v := url.Values{}
	for _, f := range fs {
		v.Set(f.key, f.raw)
	}
	return v.Encode()
}

// changesOf returns the facts of fs (now) that differ from those the
// decision's form carried as shown.
func changesOf(r *http.Request, fs []shownField) []changeView {
	l := language(r)
	shown, err := url.ParseQuery(r.PostForm.Get("shown"))
	if err != nil {
		shown = url.Values{}
	}
	var out []changeView
	for _, f := range fs {
		before, ok := shown[f.key]
		if ok && len(before) == 1 && before[0] == f.raw {
			continue
		}
		c := changeView{LabelKey: f.key, Before: "—", After: f.show(l, f.raw)}
		if ok && len(before) > 0 {
			c.Before = f.show(l, before[0])
		}
		out = append(out, c)
	}
	return out
}

// seenVersion is the version of the transfer or batch a decision's form
// showed; 0 when it carries none.
func seenVersion(r *http.Request) int64 {
	v, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}

func showText(_ lang, raw string) string { return raw }

func (h *Handler) showYen(l lang, raw string) string {
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return raw
	}
	return h.yen(l, v)
}

func (h *Handler) showDate(l lang, raw string) string {
	d, err := calendar.ParseDate(raw)
	if err != nil {
		return raw
	}
	return h.cat.date(l, d.Time())
}

func (h *Handler) showPayee(l lang, raw string) string {
	f := strings.Fields(raw)
	if len(f) != 4 {
		return raw
	}
	return h.cat.text(l, "banking.payee_account", f[0], f[1], h.cat.text(l, typeKeys[banking.AccountType(f[2])]), f[3])
}

func (h *Handler) showAccount(d directory) func(l lang, raw string) string {
	return func(l lang, raw string) string {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return raw
		}
		a, ok := d.accounts[id]
		if !ok {
			return raw
		}
		return h.cat.text(l, "banking.account_label", h.cat.text(l, typeKeys[a.Type]), a.BranchCode, a.Number, a.HolderName)
	}
}
