package banking_test

import (
	"bytes"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
	"kinko/internal/zengin"
)

// TestInterbankFileNamesPayeeBankAndBranchInHalfWidthKana: the file's
// 被仕向銀行名 and 被仕向支店名 come from the names of banks, in the Zengin
// form, read back by an independent parse.
func TestInterbankFileNamesPayeeBankAndBranchInHalfWidthKana(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組 A")
		from := f.newAccount(o, 50_000)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		unknown := elsewhere
		unknown.BranchCode = "999"
		f.approve(appr, f.request(req, from.ID, elsewhere, 1_000).ID)
		f.approve(appr, f.request(req, from.ID, unknown, 2_000).ID)
		m := &memoryFiles{}
		files, err := f.svc.ExportInterbank(f.ctx, banking.InterbankExport{Through: day0, Operator: "test"}, m)
		if err != nil || len(files) != 1 {
			t.Fatalf("export: %d files, %v", len(files), err)
		}
		zf, err := zengin.Parse(bytes.NewReader(files[0].Data))
		if err != nil {
			t.Fatalf("the file does not parse: %v", err)
		}
		if len(zf.Records) != 2 {
			t.Fatalf("%d records", len(zf.Records))
		}
		got := zf.Records[0]
		if got.BankName != "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ" || got.BranchName != "ﾖｺﾊﾏﾅｶﾔﾏ" {
			t.Errorf("0005-123 written as %q %q, want ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ ﾖｺﾊﾏﾅｶﾔﾏ", got.BankName, got.BranchName)
		}
		if got := zf.Records[1]; got.BankName != "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ" || got.BranchName != "" {
			t.Errorf("0005-999 (no such branch) written as %q %q, want the bank's name and a blank branch", got.BankName, got.BranchName)
		}
	})
}

// TestNewPayeesAreTheAccountsNotRegistered: a transfer to a registered
// payee's account is not new, one to any other account is.
func TestNewPayeesAreTheAccountsNotRegistered(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組 A")
		from := f.newAccount(o, 50_000)
		req := f.newUser(o, all)
		if _, err := f.svc.RegisterPayee(f.ctx, req.User, banking.Payee{PayeeAccount: elsewhere}); err != nil {
			t.Fatal(err)
		}
		other := elsewhere
		other.AccountNumber = "1111111"
		known := f.request(req, from.ID, elsewhere, 1_000)
		fresh := f.request(req, from.ID, other, 1_000)
		got, err := f.svc.NewPayees(f.ctx, req.User, known, fresh)
		if err != nil {
			t.Fatal(err)
		}
		if got[known.ID] || !got[fresh.ID] {
			t.Errorf("NewPayees = %v, want only %d", got, fresh.ID)
		}
		if bank, branch := f.svc.PayeeNames(elsewhere); bank != "三菱ＵＦＪ" || branch != "横浜中山" {
			t.Errorf("PayeeNames = %q %q", bank, branch)
		}
	})
}
