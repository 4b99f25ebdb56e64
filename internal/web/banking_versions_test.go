package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

var decisionFieldRE = regexp.MustCompile(`<input type="hidden" name="(version|shown)" value="([^"]*)">`)

// decision returns v with what the approver's page p carries of the
// transfer or batch it shows (its version, and what it showed), as the
// browser sends them with a decision.
func decision(t testing.TB, p page, v url.Values) url.Values {
	t.Helper()
	ms := decisionFieldRE.FindAllStringSubmatch(p.Raw, -1)
	if len(ms) == 0 {
		t.Fatalf("no version in the decision forms of %s:\n%s", p.URL, p.Raw)
	}
	for _, m := range ms {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

var changeRowRE = regexp.MustCompile(`(?s)<tr class="change"><th scope="row">([^<]*)</th><td class="change-before">([^<]*)</td><td class="change-after">([^<]*)</td></tr>`)

// changes returns the rows of the table of what changed: label -> before,
// after.
func changes(p page) map[string][2]string {
	out := map[string][2]string{}
	for _, m := range changeRowRE.FindAllStringSubmatch(p.Raw, -1) {
		out[html.UnescapeString(m[1])] = [2]string{html.UnescapeString(m[2]), html.UnescapeString(m[3])}
	}
	return out
}

// TestHardening_PageApprovalOfChangedTransferRefused is the case of the
// hardening issue on the pages: the master opens the approval page of a
// transfer of 1,000 yen; meanwhile another approver sends it back and its
// requester changes it to 990,000 yen, another payee and another date. The
// approval sent from the page that showed 1,000 approves nothing: the
// answer shows the transfer as it is now and says what changed, and its
// forms carry the new version, with which the master can approve it.
// Without the version, nothing is approved either.
func TestHardening_PageApprovalOfChangedTransferRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 1_000_000, DailyLimit: 1_000_000})
		master := bankingUser(t, b, s.org.Master.LoginID)
		other := b.NewGeneralUser(t, s.org)
		if err := b.Services.Banking.SetPrivileges(ctx, master, other.LoginID, banking.Privileges{Approval: true}); err != nil {
			t.Fatal(err)
		}
		requester := bankingUser(t, b, s.general.LoginID)
		tr, err := b.Services.Banking.RequestTransfer(ctx, requester, banking.TransferRequest{FromAccountID: s.account.ID,
			Payee: banking.PayeeAccount{BankCode: "2950", BranchCode: "002", AccountType: banking.Ordinary, AccountNumber: "2000002",
				Name: "ｳｹﾄﾘｼﾖｳﾃﾝｶｲ"}, Amount: 1_000})
		if err != nil {
			t.Fatal(err)
		}
		id := itoa(tr.ID)

		mc := bankingLogin(t, b, s.org.Master, "")
		seen := get(t, mc, b.PortalURL+"/approvals/"+id)
		wantPage(t, seen, http.StatusOK, "/approvals/"+id)
		wantText(t, seen, "1,000円")
		tok := csrfToken(t, seen)

		if _, err := b.Services.Banking.SendBack(ctx, bankingUser(t, b, other.LoginID), tr.ID, tr.Version, "金額を確認してください"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Services.Banking.Resubmit(ctx, requester, tr.ID, banking.TransferRequest{FromAccountID: s.account.ID,
			Payee:  banking.PayeeAccount{BankCode: "0005", BranchCode: "123", AccountType: banking.Ordinary, AccountNumber: "7654321", Name: "ﾀﾅｶ ﾊﾅｺ"},
			Amount: 990_000, ExecutionDate: calendar.DateOf(bankingDay).AddDays(1)}); err != nil {
			t.Fatal(err)
		}

		refused := post(t, mc, b.PortalURL+"/approvals/"+id+"/approve",
			decision(t, seen, url.Values{"csrf_token": {tok}, "confirmation_password": {s.org.Master.Confirmation}}))
		if refused.Status != http.StatusPreconditionFailed {
			t.Fatalf("approval from the page that showed 1,000 yen: %d, want 412\n%s", refused.Status, refused.Text)
		}
		wantText(t, refused, msg(t, "ja", "error.transfer_changed"), msg(t, "ja", "banking.changed.heading"), "990,000円")
		got := changes(refused)
		for label, want := range map[string][2]string{
			msg(t, "ja", "banking.field.amount"):         {"1,000円", "990,000円"},
			msg(t, "ja", "banking.field.payee_name"):     {"ｳｹﾄﾘｼﾖｳﾃﾝｶｲ", "ﾀﾅｶ ﾊﾅｺ"},
			msg(t, "ja", "banking.field.execution_date"): {"2026年12月1日", "2026年12月2日"},
		} {
			if got[label] != want {
				t.Errorf("change of %s: %q, want %q (all: %v)", label, got[label], want, got)
			}
		}
		if _, ok := got[msg(t, "ja", "banking.field.payee")]; !ok {
			t.Errorf("the change of the payee's account is not shown: %v", got)
		}
		if _, ok := got[msg(t, "ja", "banking.field.memo")]; ok {
			t.Errorf("the memo, unchanged, is shown as changed: %v", got)
		}
		now, err := b.Services.Banking.Transfer(ctx, master, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if now.Status != banking.StatusAwaitingApproval || now.ApprovedBy != 0 {
			t.Fatalf("after the refused approval: %+v, want it awaiting approval", now)
		}
		if got := balance(t, b, s.org.Code, s.account.ID); got != 1_000_000 {
			t.Fatalf("the refused approval moved money: balance %d", got)
		}

		// Without the version the page showed, nothing is approved.
		bare := post(t, mc, b.PortalURL+"/approvals/"+id+"/approve",
			url.Values{"csrf_token": {tok}, "confirmation_password": {s.org.Master.Confirmation}})
		if bare.Status != http.StatusPreconditionRequired {
			t.Fatalf("approval without the version: %d, want 428\n%s", bare.Status, bare.Text)
		}
		wantText(t, bare, msg(t, "ja", "error.precondition_required"))

		// The page of the refusal shows the version now: approving from it
		// approves what it shows.
		ok := post(t, mc, b.PortalURL+"/approvals/"+id+"/approve",
			decision(t, refused, url.Values{"csrf_token": {tok}, "confirmation_password": {s.org.Master.Confirmation}}))
		wantPage(t, ok, http.StatusOK, "/approvals/"+id)
		wantText(t, ok, msg(t, "ja", "banking.notice.scheduled"))
		if now, _ := b.Services.Banking.Transfer(ctx, master, tr.ID); now.Status != banking.StatusScheduled || now.Amount != 990_000 {
			t.Fatalf("after the approval of the version shown: %+v", now)
		}
	})
}

// TestHardening_PageBatchDecisionNamesTheVersion: the decisions on a
// batch's page carry its version; a decision on another version is refused
// with the batch shown again, and nothing is done.
func TestHardening_PageBatchDecisionNamesTheVersion(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 1_000_000, DailyLimit: 1_000_000})
		bt, err := b.Services.Banking.CreateBatch(ctx, bankingUser(t, b, s.general.LoginID), banking.BatchRequest{FromAccountID: s.account.ID,
			SourceFile: "sogo.txt", Items: []banking.BatchItem{{Payee: banking.PayeeAccount{BankCode: "2950", BranchCode: "002",
				AccountType: banking.Ordinary, AccountNumber: "2000002", Name: "ｳｹﾄﾘｼﾖｳﾃﾝｶｲ"}, Amount: 4_000}}})
		if err != nil {
			t.Fatal(err)
		}
		mc := bankingLogin(t, b, s.org.Master, "")
		path := "/approvals/batches/" + itoa(bt.ID)
		seen := get(t, mc, b.PortalURL+path)
		wantPage(t, seen, http.StatusOK, path)
		v := decision(t, seen, url.Values{"csrf_token": {csrfToken(t, seen)}, "comment": {"不要"}})
		if v.Get("version") != itoa(bt.Version) {
			t.Fatalf("the batch's page carries version %q, want %d", v.Get("version"), bt.Version)
		}
		v.Set("version", itoa(bt.Version+1))
		refused := post(t, mc, b.PortalURL+path+"/reject", v)
		if refused.Status != http.StatusPreconditionFailed {
			t.Fatalf("rejection of another version: %d, want 412\n%s", refused.Status, refused.Text)
		}
		wantText(t, refused, msg(t, "ja", "error.transfer_changed"))
		if _, bts, err := b.Services.Banking.Batch(ctx, bankingUser(t, b, s.org.Master.LoginID), bt.ID); err != nil || bts[0].Status != banking.StatusAwaitingApproval {
			t.Fatalf("after the refused rejection: %+v, %v", bts, err)
		}
		v.Set("version", itoa(bt.Version))
		done := post(t, mc, b.PortalURL+path+"/reject", v)
		wantText(t, done, msg(t, "ja", "banking.notice.rejected"))
		if strings.Contains(done.Raw, `id="changes"`) {
			t.Error("a decision that went through shows changes")
		}
	})
}

// TestHardening_PagePayeeChecksThrottled: the entry form's check of an
// account at this bank counts towards the user's limit of checks: past it,
// the form answers 429 with Retry-After and says so in the user's
// language, whether the account exists or not.
func TestHardening_PagePayeeChecksThrottled(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, func(p *server.Parts) { p.PayeeChecks = 1 })
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000})
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				c := bankingLogin(t, b, s.general, lang)
				fields := map[string]string{"bank_code": "2950", "branch_code": "002", "account_type": "ordinary",
					"account_number": "2000002", "payee_name": "ｳｹﾄﾘ", "amount": "1000"}
				if lang == "ja" {
					conf := transferEntry(t, s, c, fields)
					wantTitle(t, conf, "ja", "page.transfer_confirm.title")
				}
				for _, number := range []string{"2000002", "2999999"} {
					fields["account_number"] = number
					refused := transferEntry(t, s, c, fields)
					if refused.Status != http.StatusTooManyRequests {
						t.Fatalf("check past the limit: %d, want 429\n%s", refused.Status, refused.Text)
					}
					wantText(t, refused, msg(t, lang, "error.too_many_lookups"))
					if refused.Header.Get("Retry-After") == "" {
						t.Errorf("the refused check has no Retry-After")
					}
					if strings.Contains(refused.Text, msg(t, lang, "error.invalid_payee")) {
						t.Fatalf("the refused check tells whether the account exists:\n%s", refused.Text)
					}
				}
			})
		}
	})
}
