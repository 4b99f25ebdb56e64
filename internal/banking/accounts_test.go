package banking_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestOperatorOpensAccountsAndPostsDeposits(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		a, err := f.svc.OpenAccount(f.ctx, o.Code, banking.Current, "201", "0000123", "ﾛｳｸﾐ(ｶｲｹｲ)", "suzuki", "APP-2026-001")
		if err != nil {
			t.Fatalf("open account: %v", err)
		}
		if a.ID == 0 || a.OrganizationID != o.ID || a.Balance != 0 || a.Type != banking.Current {
			t.Fatalf("account %+v", a)
		}
		cases := []struct {
			name                        string
			org                         string
			typ                         banking.AccountType
			branch, number, holder, ref string
			want                        error
		}{
			{"the same number again", o.Code, banking.Current, "201", "0000123", "ﾛｳｸﾐ", "APP-2", banking.ErrAccountExists},
			{"no reference", o.Code, banking.Ordinary, "201", "0000124", "ﾛｳｸﾐ", "", banking.ErrRequestRefRequired},
			{"unknown organization", "00000000", banking.Ordinary, "201", "0000124", "ﾛｳｸﾐ", "APP-3", banking.ErrNotFound},
			{"branch of 2 digits", o.Code, banking.Ordinary, "20", "0000124", "ﾛｳｸﾐ", "APP-3", banking.ErrInvalidAccount},
			{"number of 6 digits", o.Code, banking.Ordinary, "201", "000124", "ﾛｳｸﾐ", "APP-3", banking.ErrInvalidAccount},
			{"number with a letter", o.Code, banking.Ordinary, "201", "000012A", "ﾛｳｸﾐ", "APP-3", banking.ErrInvalidAccount},
			{"savings at this bank", o.Code, banking.Savings, "201", "0000124", "ﾛｳｸﾐ", "APP-3", banking.ErrInvalidAccount},
			{"holder in kanji", o.Code, banking.Ordinary, "201", "0000124", "労組", "APP-3", banking.ErrInvalidAccount},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.OpenAccount(f.ctx, c.org, c.typ, c.branch, c.number, c.holder, "suzuki", c.ref)
				wantErr(t, "open", err, c.want)
			})
		}
		// The same number as another type is another account.
		if _, err := f.svc.OpenAccount(f.ctx, o.Code, banking.Ordinary, "201", "0000123", "ﾛｳｸﾐ", "suzuki", "APP-4"); err != nil {
			t.Fatalf("ordinary with a current account's number: %v", err)
		}

		p, err := f.svc.Deposit(f.ctx, a.ID, 12_345, "ﾌﾘｺﾐ ｶ)ﾛｳｷﾝ", "suzuki", "IN-1")
		if err != nil {
			t.Fatalf("deposit: %v", err)
		}
		if p.Amount != 12_345 || p.BalanceAfter != 12_345 || p.Kind != banking.PostingDeposit || p.Date != day0 {
			t.Errorf("posting %+v", p)
		}
		for _, c := range []struct {
			name   string
			id     int64
			amount int64
			desc   string
			ref    string
			want   error
		}{
			{"zero", a.ID, 0, "x", "IN", banking.ErrInvalidAmount},
			{"negative", a.ID, -5, "x", "IN", banking.ErrInvalidAmount},
			{"above the maximum", a.ID, banking.MaxAmount + 1, "x", "IN", banking.ErrInvalidAmount},
			{"no description", a.ID, 1, "", "IN", banking.ErrInvalidDescription},
			{"no reference", a.ID, 1, "x", "", banking.ErrRequestRefRequired},
			{"no such account", 987654, 1, "x", "IN", banking.ErrNotFound},
			{"a reference used for a deposit before", a.ID, 1, "x", "IN-1", banking.ErrDepositRefUsed},
		} {
			t.Run("deposit "+c.name, func(t *testing.T) {
				_, err := f.svc.Deposit(f.ctx, c.id, c.amount, c.desc, "suzuki", c.ref)
				wantErr(t, "deposit", err, c.want)
			})
		}
		if b := f.balance(a.ID); b != 12_345 {
			t.Errorf("balance %d, want 12345", b)
		}
		evs, err := db.ListAudit(f.ctx, store.AuditFilter{OrganizationID: o.ID, Type: audit.AccountDeposit})
		if err != nil || len(evs) != 1 || evs[0].RequestRef != "IN-1" || evs[0].Actor != "operator:suzuki" ||
			evs[0].Detail != fmt.Sprintf("account %d deposit amount 12345", a.ID) {
			t.Errorf("deposit audit %+v, %v", evs, err)
		}
		got, err := f.svc.LookupAccount(f.ctx, "201", banking.Current, "0000123")
		if err != nil || got.ID != a.ID || got.Balance != 12_345 {
			t.Errorf("lookup: %+v, %v", got, err)
		}
		f.verify()
	})
}

func TestTransactionsByDateAndPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o, other := f.newOrg("労組"), f.newOrg("他")
		a := f.newAccount(o, 0)
		// Deposits of 1..9 yen on three days: 3 a day.
		var want []banking.Posting
		var bal int64
		for d := range 3 {
			f.bank.Clock.Set(t0.Add(time.Duration(d) * 24 * time.Hour))
			for i := range 3 {
				amount := int64(d*3 + i + 1)
				bal += amount
				p := f.deposit(a.ID, amount)
				want = append(want, p)
				if p.BalanceAfter != bal {
					t.Fatalf("deposit %d: balance after %d, want %d", amount, p.BalanceAfter, bal)
				}
			}
		}
		ids := func(ps []banking.Posting) []int64 {
			var out []int64
			for _, p := range ps {
				out = append(out, p.ID)
			}
			return out
		}
		cases := []struct {
			name          string
			from, to      calendar.Date
			page, perPage int
			want          []banking.Posting
			total         int
		}{
			{"everything", calendar.Date{}, calendar.Date{}, 1, 50, want, 9},
			{"the middle day", day0.AddDays(1), day0.AddDays(1), 1, 50, want[3:6], 3},
			{"from the second day, page 2 of 2", day0.AddDays(1), calendar.Date{}, 2, 4, want[7:9], 6},
			{"until the first day", calendar.Date{}, day0, 1, 2, want[0:2], 3},
			{"a page past the end", calendar.Date{}, calendar.Date{}, 5, 4, nil, 9},
			{"a day without postings", day0.AddDays(5), day0.AddDays(6), 1, 10, nil, 0},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				page, err := f.svc.Transactions(f.ctx, o.master.User, a.ID, c.from, c.to, c.page, c.perPage)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(ids(c.want), ids(page.Postings)); diff != "" || page.Total != c.total {
					t.Errorf("postings (-want +got):\n%s total %d, want %d", diff, page.Total, c.total)
				}
				for i, p := range page.Postings {
					if w := c.want[i]; p.BalanceAfter != w.BalanceAfter || p.Amount != w.Amount || p.Date != w.Date {
						t.Errorf("posting %+v, want %+v", p, w)
					}
				}
			})
		}
		_, err := f.svc.Transactions(f.ctx, o.master.User, a.ID, day0.AddDays(2), day0, 1, 10)
		wantErr(t, "to before from", err, banking.ErrInvalidDate)
		_, err = f.svc.Transactions(f.ctx, other.master.User, a.ID, calendar.Date{}, calendar.Date{}, 1, 10)
		wantErr(t, "another organization's account", err, banking.ErrNotFound)
		acct, all, err := f.svc.AllTransactions(f.ctx, o.master.User, a.ID, calendar.Date{}, calendar.Date{})
		if err != nil || acct.ID != a.ID || len(all) != 9 {
			t.Errorf("all transactions: %d, %v", len(all), err)
		}
	})
}

// decodeCSV decodes a statement in enc and returns its records, checking
// that every line ends in CRLF.
func decodeCSV(t *testing.T, raw []byte, enc string) [][]string {
	t.Helper()
	var r io.Reader = bytes.NewReader(raw)
	if enc == banking.EncodingShiftJIS {
		r = transform.NewReader(r, japanese.ShiftJIS.NewDecoder())
	}
	text, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s: %v", enc, err)
	}
	if !bytes.HasSuffix(text, []byte("\r\n")) || bytes.Count(text, []byte("\n")) != bytes.Count(text, []byte("\r\n")) {
		t.Fatalf("lines do not all end in CRLF: %q", text)
	}
	records, err := csv.NewReader(bytes.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("parse csv: %v", err)
	}
	return records
}

func TestStatementCSV(t *testing.T) {
	postings := []banking.Posting{
		{Kind: banking.PostingDeposit, Amount: 1_000_000, BalanceAfter: 1_000_000, Date: calendar.NewDate(2026, 4, 1), Description: "ﾌﾘｺﾐ ｶ)ﾛｳｷﾝ"},
		{Kind: banking.PostingDebit, Amount: -30_000, BalanceAfter: 970_000, Date: calendar.NewDate(2026, 4, 2), Description: "振込 ﾀﾅｶ ﾊﾅｺ"},
		{Kind: banking.PostingCredit, Amount: 5, BalanceAfter: 970_005, Date: calendar.NewDate(2026, 4, 30), Description: "振込 ﾛｳｸﾐ, \"ﾃｽﾄ\""},
		{Kind: banking.PostingDeposit, Amount: 1, BalanceAfter: 970_006, Date: calendar.NewDate(2026, 5, 1), Description: "=SUM(A1)"},
	}
	want := [][]string{
		{"日付", "摘要", "お支払金額", "お預り金額", "差引残高"},
		{"2026/04/01", "ﾌﾘｺﾐ ｶ)ﾛｳｷﾝ", "", "1000000", "1000000"},
		{"2026/04/02", "振込 ﾀﾅｶ ﾊﾅｺ", "30000", "", "970000"},
		{"2026/04/30", "振込 ﾛｳｸﾐ, \"ﾃｽﾄ\"", "", "5", "970005"},
		{"2026/05/01", "'=SUM(A1)", "", "1", "970006"},
	}
	for _, enc := range []string{banking.EncodingUTF8, banking.EncodingShiftJIS} {
		t.Run(enc, func(t *testing.T) {
			var buf bytes.Buffer
			if err := banking.StatementCSV(&buf, postings, enc); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, decodeCSV(t, buf.Bytes(), enc)); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
			if enc == banking.EncodingShiftJIS {
				// Half-width katakana are single bytes in Shift_JIS; 日付 is 0x93FA 0x9574.
				if !bytes.HasPrefix(buf.Bytes(), []byte{0x93, 0xfa, 0x95, 0x74, ','}) || !bytes.Contains(buf.Bytes(), []byte{0xcc, 0xd8, 0xba, 0xd0}) {
					t.Errorf("not Shift_JIS: % x", buf.Bytes()[:16])
				}
			} else if !strings.HasPrefix(buf.String(), "日付,摘要,") {
				t.Errorf("not UTF-8 without BOM: %q", buf.String()[:16])
			}
		})
	}
	t.Run("a character Shift_JIS lacks", func(t *testing.T) {
		var buf bytes.Buffer
		if err := banking.StatementCSV(&buf, []banking.Posting{{Amount: 1, BalanceAfter: 1, Date: day0, Description: "😀 ok"}}, banking.EncodingShiftJIS); err != nil {
			t.Fatal(err)
		}
		if got := decodeCSV(t, buf.Bytes(), banking.EncodingShiftJIS)[1][1]; got != "? ok" {
			t.Errorf("description %q, want %q", got, "? ok")
		}
	})
	t.Run("unknown encoding", func(t *testing.T) {
		err := banking.StatementCSV(io.Discard, postings, "euc-jp")
		if !errors.Is(err, banking.ErrUnknownEncoding) {
			t.Errorf("error %v, want ErrUnknownEncoding", err)
		}
	})
}

func TestPayees(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o, other := f.newOrg("労組"), f.newOrg("他")
		acct, dest := f.newAccount(o, 100_000), f.newAccount(other, 0)
		u, appr := f.newUser(o, all), f.newUser(o, all)
		p, err := f.svc.RegisterPayee(f.ctx, u.User, banking.Payee{PayeeAccount: payeeOf(dest), Nickname: "取引先"})
		if err != nil {
			t.Fatalf("register: %v", err)
		}
		_, err = f.svc.RegisterPayee(f.ctx, u.User, banking.Payee{PayeeAccount: payeeOf(dest)})
		wantErr(t, "register twice", err, banking.ErrPayeeExists)
		// Another organization may register the same account.
		if _, err := f.svc.RegisterPayee(f.ctx, other.master.User, banking.Payee{PayeeAccount: payeeOf(dest)}); err != nil {
			t.Fatalf("the same payee in another organization: %v", err)
		}
		list, err := f.svc.Payees(f.ctx, u.User)
		if err != nil || len(list) != 1 || list[0].ID != p.ID || list[0].Nickname != "取引先" {
			t.Fatalf("payees %+v, %v", list, err)
		}
		tr, err := f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, PayeeID: p.ID, Amount: 700})
		if err != nil || tr.Payee != p.PayeeAccount || tr.ToAccountID != dest.ID {
			t.Fatalf("transfer to the registered payee: %+v, %v", tr, err)
		}
		_, err = f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, PayeeID: p.ID, Payee: elsewhere, Amount: 700})
		wantErr(t, "payee ID and account both", err, banking.ErrInvalidPayee)
		theirs, _ := f.svc.Payees(f.ctx, other.master.User)
		_, err = f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, PayeeID: theirs[0].ID, Amount: 700})
		wantErr(t, "another organization's payee", err, banking.ErrNotFound)
		err = f.svc.DeletePayee(f.ctx, u.User, theirs[0].ID)
		wantErr(t, "delete another organization's payee", err, banking.ErrNotFound)
		if err := f.svc.DeletePayee(f.ctx, u.User, p.ID); err != nil {
			t.Fatal(err)
		}
		// The transfer keeps its copy of the payee.
		f.approve(appr, tr.ID)
		if b := f.balance(dest.ID); b != 700 {
			t.Errorf("payee balance %d, want 700", b)
		}
		f.verify()
	})
}

func TestPayeeFieldsAreChecked(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct := f.newAccount(o, 100_000)
		u := f.newUser(o, all)
		with := func(change func(p *banking.PayeeAccount)) banking.PayeeAccount {
			p := elsewhere
			change(&p)
			return p
		}
		cases := []struct {
			name  string
			payee banking.PayeeAccount
			want  error
		}{
			{"bank code of 3 digits", with(func(p *banking.PayeeAccount) { p.BankCode = "005" }), banking.ErrInvalidPayee},
			{"branch with a letter", with(func(p *banking.PayeeAccount) { p.BranchCode = "12A" }), banking.ErrInvalidPayee},
			{"full-width digits", with(func(p *banking.PayeeAccount) { p.AccountNumber = "７６５４３２１" }), banking.ErrInvalidPayee},
			{"unknown account type", with(func(p *banking.PayeeAccount) { p.AccountType = "fixed" }), banking.ErrInvalidPayee},
			{"name in kanji", with(func(p *banking.PayeeAccount) { p.Name = "田中花子" }), banking.ErrInvalidPayeeName},
			{"name in full-width katakana", with(func(p *banking.PayeeAccount) { p.Name = "タナカ" }), banking.ErrInvalidPayeeName},
			{"name in lower case", with(func(p *banking.PayeeAccount) { p.Name = "tanaka" }), banking.ErrInvalidPayeeName},
			{"empty name", with(func(p *banking.PayeeAccount) { p.Name = "" }), banking.ErrInvalidPayeeName},
			{"name of 31 characters", with(func(p *banking.PayeeAccount) { p.Name = strings.Repeat("ｱ", 31) }), banking.ErrInvalidPayeeName},
			{"name of 30 characters", with(func(p *banking.PayeeAccount) { p.Name = strings.Repeat("ｱ", 30) }), nil},
			{"name with the allowed symbols", with(func(p *banking.PayeeAccount) { p.Name = "ｶ)ABC-1.2/3 (ﾕ" }), nil},
			{"savings account elsewhere", with(func(p *banking.PayeeAccount) { p.AccountType = banking.Savings }), nil},
			{"an account here that does not exist", with(func(p *banking.PayeeAccount) { p.BankCode = thisBank }), banking.ErrInvalidPayee},
			{"the account the money comes from", payeeOf(acct), banking.ErrInvalidPayee},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: c.payee, Amount: 1})
				wantErr(t, "request", err, c.want)
			})
		}
		for _, c := range []struct {
			name   string
			amount int64
			memo   string
			want   error
		}{
			{"zero", 0, "", banking.ErrInvalidAmount},
			{"negative", -1, "", banking.ErrInvalidAmount},
			{"memo of 101 characters", 1, strings.Repeat("あ", 101), banking.ErrInvalidMemo},
			{"memo with a newline", 1, "a\nb", banking.ErrInvalidMemo},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: c.amount, Memo: c.memo})
				wantErr(t, "request", err, c.want)
			})
		}
	})
}

func TestCustomNameNormalizerAndExecutionDate(t *testing.T) {
	db := testutil.OpenSQLite(t)
	f := newFixture(t, db)
	svc, err := banking.New(banking.Config{Store: db, Identity: f.ident, Now: f.bank.Clock.Now, BankCode: thisBank,
		NormalizeName: func(s string) (string, error) { return strings.ToUpper(s), nil },
		ExecutionDate: func(now time.Time, d calendar.Date, interbank bool) (calendar.Date, error) {
			if interbank && !now.Before(d.Time().Add(15*time.Hour)) {
				return d.AddDays(1), nil // after the cut-off
			}
			return d, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	o := f.newOrg("労組")
	acct := f.newAccount(o, 100_000)
	u, appr := f.newUser(o, all), f.newUser(o, all)
	p := elsewhere
	p.Name = "abc"
	f.bank.Clock.Set(t0.Add(6 * time.Hour)) // 16:00
	tr, err := svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: p, Amount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Payee.Name != "ABC" || tr.ExecutionDate != day0.AddDays(1) {
		t.Errorf("transfer %+v, want name ABC, dated the next day", tr)
	}
	if d, err := svc.PlanExecutionDate(calendar.Date{}, thisBank); err != nil || d != day0 {
		t.Errorf("plan for this bank: %s, %v; want today", d, err)
	}
	if got := f.approve(appr, tr.ID); got.Status != banking.StatusScheduled {
		t.Errorf("status %s, want scheduled for tomorrow", got.Status)
	}
}
