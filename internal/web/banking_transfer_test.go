package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	sjis "golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestBankingTransferFlowByForms: a general user requests a transfer by
// the forms (entry with a full-width name and amount, confirmation with the
// converted name, done with its number; the confirmation sent twice records
// one transfer); the master sees it on the top screen, a wrong confirmation
// password approves nothing, the right one executes it; both balances,
// the statement and its CSV downloads (UTF-8 and Shift_JIS) show it.
func TestBankingTransferFlowByForms(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")

		home := get(t, gc, b.PortalURL+"/home")
		wantText(t, home, "1,000,000円")

		conf := transferEntry(t, s, gc, map[string]string{"bank_code": "2950", "branch_code": "002", "account_type": "ordinary",
			"account_number": "2000002", "payee_name": "ウケトリ　ショウテンカイ", "amount": "１２，３４５", "memo": "12月分 会費返金"})
		wantPage(t, conf, http.StatusOK, "/transfers/new")
		wantTitle(t, conf, "ja", "page.transfer_confirm.title")
		wantText(t, conf, "ｳｹﾄﾘ ｼﾖｳﾃﾝｶｲ", msg(t, "ja", "page.transfer_confirm.converted", "ウケトリ　ショウテンカイ"), "12,345円")
		if strings.Contains(conf.Raw, `id="date-reason"`) {
			t.Errorf("a transfer within the bank at 10:00 on a business day shows a moved date:\n%s", conf.Text)
		}
		v := hiddenFields(conf)
		v.Set("step", "submit")
		done := post(t, gc, b.PortalURL+"/transfers/new", v)
		wantTitle(t, done, "ja", "page.transfer_done.title")
		again := post(t, gc, b.PortalURL+"/transfers/new", v)
		wantTitle(t, again, "ja", "page.transfer_done.title")

		general := bankingUser(t, b, s.general.LoginID)
		tp, err := b.Services.Banking.Transfers(context.Background(), general, banking.TransferQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if tp.Total != 1 {
			t.Fatalf("the confirmation sent twice recorded %d transfers, want 1", tp.Total)
		}
		tr := tp.Transfers[0]
		if tr.Amount != 12_345 || tr.Payee.Name != "ｳｹﾄﾘ ｼﾖｳﾃﾝｶｲ" || tr.Status != banking.StatusAwaitingApproval || tr.ToAccountID != s.payee.ID {
			t.Fatalf("transfer = %+v", tr)
		}
		id := itoa(tr.ID)
		for _, p := range []page{done, again} {
			wantText(t, p, msg(t, "ja", "page.transfer_done.requested", id), msg(t, "ja", "page.transfer_done.awaiting"))
		}

		// The requester cannot approve their own transfer.
		own := get(t, gc, b.PortalURL+"/approvals/"+id)
		if own.Status != http.StatusForbidden {
			t.Errorf("the requester without the approval privilege got %d on the approval page", own.Status)
		}

		mc := bankingLogin(t, b, s.org.Master, "")
		mhome := get(t, mc, b.PortalURL+"/home")
		if !strings.Contains(mhome.Raw, `href="/approvals/`+id+`"`) {
			t.Fatalf("the master's top screen has no link to the transfer awaiting approval:\n%s", mhome.Text)
		}
		ap := get(t, mc, b.PortalURL+"/approvals/"+id)
		wantPage(t, ap, http.StatusOK, "/approvals/"+id)
		wantText(t, ap, "12,345円", "ｳｹﾄﾘ ｼﾖｳﾃﾝｶｲ")
		tok := csrfToken(t, ap)

		wrong := post(t, mc, b.PortalURL+"/approvals/"+id+"/approve", decision(t, ap, url.Values{"csrf_token": {tok}, "confirmation_password": {"wrong-password"}}))
		if wrong.Status != http.StatusForbidden {
			t.Errorf("wrong confirmation password: %d, want 403", wrong.Status)
		}
		wantText(t, wrong, msg(t, "ja", "error.invalid_confirmation_password"))
		if got := balance(t, b, s.org.Code, s.account.ID); got != 1_000_000 {
			t.Fatalf("a wrong password moved money: balance %d", got)
		}

		ok := post(t, mc, b.PortalURL+"/approvals/"+id+"/approve", decision(t, ap, url.Values{"csrf_token": {tok}, "confirmation_password": {s.org.Master.Confirmation}}))
		wantPage(t, ok, http.StatusOK, "/approvals/"+id)
		wantText(t, ok, msg(t, "ja", "banking.notice.approved"), msg(t, "ja", "banking.status.executed"))
		if got := balance(t, b, s.org.Code, s.account.ID); got != 1_000_000-12_345 {
			t.Errorf("payer's balance %d, want %d", got, 1_000_000-12_345)
		}
		if got := balance(t, b, s.other.Code, s.payee.ID); got != 12_345 {
			t.Errorf("payee's balance %d, want 12345", got)
		}

		acc := get(t, gc, b.PortalURL+"/accounts")
		wantText(t, acc, "987,655円")
		st := get(t, gc, b.PortalURL+"/accounts/"+itoa(s.account.ID)+"/statement")
		wantPage(t, st, http.StatusOK, "/accounts/"+itoa(s.account.ID)+"/statement")
		if n := strings.Count(st.Raw, `<tr class="posting">`); n != 2 {
			t.Errorf("statement has %d rows, want the deposit and the transfer", n)
		}
		wantText(t, st, "12,345円", "987,655円", "1,000,000円")

		for _, enc := range []string{"utf-8", "shift_jis"} {
			t.Run("csv "+enc, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodGet, b.PortalURL+"/accounts/"+itoa(s.account.ID)+"/statement.csv?from=2026-12-01&to=2026-12-01&encoding="+enc, nil)
				resp, err := gc.HTTP.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
					!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
					t.Fatalf("%d %v\n%s", resp.StatusCode, resp.Header, raw)
				}
				text := string(raw)
				if enc == "shift_jis" {
					dec, _, err := transform.Bytes(sjis.ShiftJIS.NewDecoder(), raw)
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Equal(dec, raw) {
						t.Fatal("the Shift_JIS download is the same bytes as UTF-8")
					}
					text = string(dec)
				}
				lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
				if len(lines) != 3 || lines[0] != "日付,摘要,お支払金額,お預り金額,差引残高" {
					t.Fatalf("csv lines = %q", lines)
				}
				if !strings.HasPrefix(lines[2], "2026/12/01,") || !strings.HasSuffix(lines[2], ",12345,,987655") {
					t.Errorf("transfer row = %q", lines[2])
				}
			})
		}
	})
}

// TestBankingDoubleSubmitCreatesOneTransfer: the confirmation sent twice
// at once records one transfer.
func TestBankingDoubleSubmitCreatesOneTransfer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")
		conf := transferEntry(t, s, gc, map[string]string{"bank_code": "0005", "branch_code": "123", "account_type": "current",
			"account_number": "7654321", "payee_name": "ｶ)ﾃｽﾄ", "amount": "5000"})
		v := hiddenFields(conf)
		v.Set("step", "submit")
		done := make(chan page, 2)
		for range 2 {
			go func() { done <- post(t, gc, b.PortalURL+"/transfers/new", v) }()
		}
		for range 2 {
			if p := <-done; title(p) != msg(t, "ja", "page.transfer_done.title")+" | "+msg(t, "ja", "service.name") {
				t.Errorf("a submit got %d %q", p.Status, title(p))
			}
		}
		tp, err := b.Services.Banking.Transfers(context.Background(), bankingUser(t, b, s.general.LoginID), banking.TransferQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if tp.Total != 1 {
			t.Errorf("two submits recorded %d transfers, want 1", tp.Total)
		}
	})
}

// TestBankingCutoffReasonOnConfirmPage: after 15:00 in Japan a same-day
// transfer to another bank is dated the next business day, and the
// confirmation page says so (in the page's language) before the user
// confirms; the request gets that date.
func TestBankingCutoffReasonOnConfirmPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		late := bankingDay.Add(5*time.Hour + 30*time.Minute) // 15:30
		b := testutil.NewBankAt(t, db, late, nil)
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000})
		date, reason, err := calendar.Default().ExecutionDate(late, calendar.DateOf(late), true, calendar.DefaultCutoff)
		if err != nil || !reason.Moved() {
			t.Fatalf("calendar: %v %+v", err, reason)
		}
		fields := map[string]string{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
			"account_number": "1234567", "payee_name": "ﾀｺｳ ﾀﾛｳ", "amount": "10000", "execution_date": "2026-12-01"}
		for _, tt := range []struct{ lang, text string }{{"ja", reason.Ja()}, {"en", reason.En()}} {
			t.Run(tt.lang, func(t *testing.T) {
				gc := bankingLogin(t, b, s.general, tt.lang)
				conf := transferEntry(t, s, gc, fields)
				wantTitle(t, conf, tt.lang, "page.transfer_confirm.title")
				wantText(t, conf, tt.text)
				if !strings.Contains(conf.Raw, `<time datetime="`+date.String()+`">`) {
					t.Errorf("confirmation page does not show the execution date %s", date)
				}
				if tt.lang == "ja" {
					v := hiddenFields(conf)
					v.Set("step", "submit")
					wantTitle(t, post(t, gc, b.PortalURL+"/transfers/new", v), "ja", "page.transfer_done.title")
					tp, err := b.Services.Banking.Transfers(context.Background(), bankingUser(t, b, s.general.LoginID), banking.TransferQuery{})
					if err != nil || tp.Total != 1 || tp.Transfers[0].ExecutionDate.String() != date.String() {
						t.Errorf("transfer recorded: %+v, %v; want dated %s", tp, err, date)
					}
				}
			})
		}
		// Within the bank there is no cut-off: no moved date.
		gc := bankingLogin(t, b, s.general, "")
		fields["bank_code"], fields["branch_code"], fields["account_number"] = "2950", "002", "2000002"
		conf := transferEntry(t, s, gc, fields)
		if strings.Contains(conf.Raw, `id="date-reason"`) {
			t.Errorf("a transfer within the bank after 15:00 shows a moved date")
		}
	})
}

// TestBankingAmountInput: amounts typed with separators or in full-width
// digits are accepted; decimals, negatives and words are refused with a
// message next to the field, the input kept.
func TestBankingAmountInput(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{TransferRequest: true, TransactionLimit: 50_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")
		for _, tt := range []struct {
			in   string
			want string // the amount shown on the confirmation page, or
			key  string // the catalogue key of the refusal
			args []any
		}{
			{in: "10,000", want: "10,000円"},
			{in: "10000", want: "10,000円"},
			{in: "１００００", want: "10,000円"},
			{in: " １０，０００ ", want: "10,000円"},
			{in: "100.5", key: "banking.error.amount_decimal"},
			{in: "-100", key: "banking.error.amount_negative"},
			{in: "－１００", key: "banking.error.amount_negative"},
			{in: "abc", key: "banking.error.amount_invalid"},
			{in: "", key: "banking.error.amount_required"},
			{in: "0", key: "error.invalid_amount"},
			{in: "50,001", key: "banking.limit.transaction", args: []any{"50,000円", "0円", "50,001円"}},
		} {
			t.Run(tt.in, func(t *testing.T) {
				p := transferEntry(t, s, gc, map[string]string{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
					"account_number": "1234567", "payee_name": "ﾀｺｳ ﾀﾛｳ", "amount": tt.in})
				if tt.want != "" {
					wantTitle(t, p, "ja", "page.transfer_confirm.title")
					wantText(t, p, tt.want)
					return
				}
				if p.Status != http.StatusBadRequest && p.Status != http.StatusConflict {
					t.Errorf("status %d, want 400", p.Status)
				}
				wantTitle(t, p, "ja", "page.transfer_new.title")
				if !strings.Contains(p.Raw, `id="amount_error"`) {
					t.Errorf("no message next to the amount:\n%s", p.Text)
				}
				wantText(t, p, msg(t, "ja", tt.key, tt.args...))
				if !strings.Contains(p.Text, `value="`+tt.in+`"`) {
					t.Errorf("the amount typed %q is not kept", tt.in)
				}
			})
		}
		// A name that cannot be converted is refused with the character.
		p := transferEntry(t, s, gc, map[string]string{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
			"account_number": "1234567", "payee_name": "山田 タロウ", "amount": "1000"})
		if !strings.Contains(p.Raw, `id="payee_name_error"`) || !strings.Contains(p.Text, "山") {
			t.Errorf("a kanji name is not refused next to the field with its character:\n%s", p.Text)
		}
	})
}
