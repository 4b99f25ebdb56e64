package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
	"kinko/internal/zengin"
)

// createOrg runs "kinko operator org create --json" and returns what it
// printed.
func createOrg(t *testing.T, b bank, name, loginID string) orgCreated {
	t.Helper()
	r := approved(t, b, b.operator("--json", "org", "create", "--name", name, "--master-login-id", loginID, "--master-email", loginID+"@example.org", "--request-ref", "APP-"+loginID))
	var o orgCreated
	decodeStrict(t, r.stdout, &o)
	return o
}

type accountListed struct {
	ID           int64  `json:"id"`
	Organization string `json:"organization"`
	Type         string `json:"type"`
	Branch       string `json:"branch"`
	Number       string `json:"number"`
	Holder       string `json:"holder"`
	Balance      int64  `json:"balance"`
	OpenedAt     string `json:"opened_at"`
}

// openAccount runs "kinko operator account open --json".
func openAccount(t *testing.T, b bank, org, typ, branch, number, holder string) accountListed {
	t.Helper()
	r := mustRun(t, b.operator("--json", "--operator", "yamada", "account", "open", "--org", org, "--type", typ, "--branch", branch,
		"--number", number, "--holder", holder, "--request-ref", "OPEN-"+number)...)
	var a accountListed
	decodeStrict(t, r.stdout, &a)
	return a
}

// TestOperatorAccounts opens accounts, posts deposits (入金) by ID and by
// number, sets an organization's daily limit, and checks what is stored and
// audited, and what is refused.
func TestOperatorAccounts(t *testing.T) {
	engines(t, testOperatorAccounts)
}

func testOperatorAccounts(t *testing.T, b bank) {
	ctx := context.Background()
	db := b.open(t)
	org := createOrg(t, b, "ひかり労働組合", "hikari01")

	// account open: text output; the holder is converted to half-width kana.
	r := mustRun(t, b.operator("--operator", "yamada", "account", "open", "--org", org.Code, "--type", "ordinary", "--branch", "001",
		"--number", "1234567", "--holder", "ヒカリロウドウクミアイ", "--request-ref", "OPEN-0001")...)
	m := regexp.MustCompile(`^Account ([0-9]+) opened for organization ` + org.Code + `: 普通 001-1234567 ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ \(request OPEN-0001\)\.\n$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("account open output:\n%s", r.stdout)
	}
	ordinaryID, _ := strconv.ParseInt(m[1], 10, 64)
	current := openAccount(t, b, org.Code, "current", "001", "7654321", "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ")
	if current.Type != "current" || current.Balance != 0 || current.Organization != org.Code {
		t.Errorf("account open --json: %+v", current)
	}

	refused := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"the same account again", []string{"account", "open", "--org", org.Code, "--type", "ordinary", "--branch", "001", "--number", "1234567", "--holder", "ｶﾅ", "--request-ref", "X"}, 1, "exists already"},
		{"no request reference", []string{"account", "open", "--org", org.Code, "--branch", "001", "--number", "1111111", "--holder", "ｶﾅ"}, 2, "--request-ref"},
		{"savings account", []string{"account", "open", "--org", org.Code, "--type", "savings", "--branch", "001", "--number", "1111111", "--holder", "ｶﾅ", "--request-ref", "X"}, 2, "ordinary"},
		{"a branch of 2 digits", []string{"account", "open", "--org", org.Code, "--branch", "01", "--number", "1111111", "--holder", "ｶﾅ", "--request-ref", "X"}, 1, "3 digits"},
		{"a kanji holder", []string{"account", "open", "--org", org.Code, "--branch", "001", "--number", "1111111", "--holder", "労働組合", "--request-ref", "X"}, 1, "invalid"},
		{"unknown organization", []string{"account", "open", "--org", "99999999", "--branch", "001", "--number", "1111111", "--holder", "ｶﾅ", "--request-ref", "X"}, 1, "not found"},
		{"deposit of 0 yen", []string{"account", "deposit", "--account", m[1], "--amount", "0", "--description", "ｶﾅ", "--request-ref", "X"}, 1, "invalid amount"},
		{"deposit of a negative amount", []string{"account", "deposit", "--account", m[1], "--amount", "-5", "--description", "ｶﾅ", "--request-ref", "X"}, 2, "whole number"},
		{"deposit of a fraction", []string{"account", "deposit", "--account", m[1], "--amount", "10.5", "--description", "ｶﾅ", "--request-ref", "X"}, 2, "whole number"},
		{"deposit to ID and number", []string{"account", "deposit", "--account", m[1], "--branch", "001", "--number", "1234567", "--amount", "5", "--description", "ｶﾅ", "--request-ref", "X"}, 2, "--account ID, or"},
		{"deposit to an unknown account", []string{"account", "deposit", "--branch", "001", "--number", "9999999", "--amount", "5", "--description", "ｶﾅ", "--request-ref", "X"}, 1, "not found"},
		{"deposit without reference", []string{"account", "deposit", "--account", m[1], "--amount", "5", "--description", "ｶﾅ"}, 2, "--request-ref"},
		{"limit without reference", []string{"limit", "set", "--org", org.Code, "--daily", "5"}, 2, "--request-ref"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, b.operator(tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.contains) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.contains)
			}
		})
	}

	// deposit by ID and by branch and number.
	r = approved(t, b, b.operator("--operator", "yamada", "account", "deposit", "--account", m[1], "--amount", "1,200,000",
		"--description", "ｸﾐｱｲﾋ ﾀﾅｶ ｲﾁﾛｳ", "--request-ref", "DEP-1"))
	if want := "\nDeposited 1,200,000 yen to account " + m[1]; !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "the balance is now 1,200,000 yen") {
		t.Errorf("deposit output %q, want %q... and the new balance", r.stdout, want)
	}
	approved(t, b, b.operator("--operator", "yamada", "account", "deposit", "--branch", "001", "--number", "1234567",
		"--amount", "3500", "--description", "ｸﾐｱｲﾋ ｽｽﾞｷ ｼﾞﾛｳ", "--request-ref", "DEP-2"))
	approved(t, b, b.operator("--operator", "yamada", "account", "deposit", "--branch", "001", "--type", "current", "--number", "7654321",
		"--amount", "800000", "--description", "ﾌﾘｶｴ", "--request-ref", "DEP-3"))
	// A second deposit under DEP-1 is refused when it is filed.
	r = run(t, b.operator("--operator", "yamada", "account", "deposit", "--account", m[1], "--amount", "1,200,000",
		"--description", "ｸﾐｱｲﾋ ﾀﾅｶ ｲﾁﾛｳ", "--request-ref", "DEP-1")...)
	if r.code != 1 || !strings.Contains(r.stderr, "reference is already used") {
		t.Errorf("a second deposit under DEP-1: exit %d, %q", r.code, r.stderr)
	}

	// account list shows the balances; --org limits it.
	other := createOrg(t, b, "みどり生協", "midori01")
	otherAcct := openAccount(t, b, other.Code, "ordinary", "002", "1234567", "ﾐﾄﾞﾘｾｲｷﾖｳ")
	var all, mine []accountListed
	decodeStrict(t, mustRun(t, b.operator("--json", "account", "list")...).stdout, &all)
	decodeStrict(t, mustRun(t, b.operator("--json", "account", "list", "--org", org.Code)...).stdout, &mine)
	balances := map[int64]int64{}
	for _, a := range all {
		balances[a.ID] = a.Balance
	}
	if want := map[int64]int64{ordinaryID: 1_203_500, current.ID: 800_000, otherAcct.ID: 0}; !cmp.Equal(balances, want) {
		t.Errorf("account list balances %v, want %v", balances, want)
	}
	if len(mine) != 2 || mine[0].Organization != org.Code || mine[1].Organization != org.Code {
		t.Errorf("account list --org %s: %+v", org.Code, mine)
	}
	text := mustRun(t, b.operator("account", "list", "--org", org.Code)...).stdout
	if !strings.Contains(text, "1,203,500") || !strings.Contains(text, "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ") || strings.Contains(text, other.Code) {
		t.Errorf("account list text:\n%s", text)
	}

	// The statement has the postings, with their descriptions and balances.
	ps, total, err := db.Postings(ctx, ordinaryID, calendar.Date{}, calendar.Date{}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || ps[0].Amount != 1_200_000 || ps[0].Description != "ｸﾐｱｲﾋ ﾀﾅｶ ｲﾁﾛｳ" || ps[1].BalanceAfter != 1_203_500 || ps[1].Kind != banking.PostingDeposit {
		t.Errorf("postings %+v (total %d)", ps, total)
	}

	// limit set.
	r = approved(t, b, b.operator("--operator", "yamada", "limit", "set", "--org", org.Code, "--daily", "25,000,000", "--request-ref", "LIM-1"))
	if !strings.Contains(r.stdout, "25,000,000 yen") {
		t.Errorf("limit set output: %q", r.stdout)
	}
	o, err := db.OrganizationByCode(ctx, org.Code)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := db.OrganizationDailyLimit(ctx, o.ID); err != nil || !ok || v != 25_000_000 {
		t.Errorf("organization daily limit = %d, %v, %v; want 25000000", v, ok, err)
	}

	// Every action is audited with the operator and the reference: an
	// account opened by the clerk alone, a deposit and a limit by the
	// approver of the clerk's request.
	for typ, refs := range map[audit.Type][]string{
		audit.AccountOpened:            {"OPEN-0001", "OPEN-7654321", "OPEN-1234567"},
		audit.AccountDeposit:           {"DEP-1", "DEP-2", "DEP-3"},
		audit.OrganizationLimitChanged: {"LIM-1"},
	} {
		var got []string
		want := "operator:" + checker
		if typ == audit.AccountOpened {
			want = "operator:yamada"
		}
		for _, ev := range auditEvents(t, db, typ) {
			if ev.Actor != want {
				t.Errorf("%s actor %q, want %s", typ, ev.Actor, want)
			}
			got = append(got, ev.RequestRef)
		}
		if !cmp.Equal(got, refs) {
			t.Errorf("%s references %v, want %v", typ, got, refs)
		}
	}
}

// testBanking is a banking service on a bank's database, for the tests to
// make transfers that the CLI then works on.
type testBanking struct {
	svc   *banking.Service
	ident *identity.Service
}

func newTestBanking(t *testing.T, db *store.DB) testBanking {
	t.Helper()
	ident, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: testutil.FastHasher}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := banking.New(banking.Config{Store: db, Identity: ident, BankCode: server.DefaultBankCode, NormalizeName: zengin.NormalizeKana})
	if err != nil {
		t.Fatal(err)
	}
	return testBanking{svc: svc, ident: ident}
}

func (tb testBanking) user(t *testing.T, loginID string) identity.User {
	t.Helper()
	u, _, err := tb.ident.UserByLoginID(context.Background(), loginID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// clerk adds a general user who may request transfers to the master's
// organization.
func (tb testBanking) clerk(t *testing.T, master identity.User, loginID string) identity.User {
	t.Helper()
	ctx := context.Background()
	if _, _, err := tb.ident.CreateGeneralUserWithPasswords(ctx, master, loginID, "事務 "+loginID, loginID+"@example.org",
		identity.InitialPasswords{Password: "Clerk-Pass-" + loginID, ConfirmationPassword: "Clerk-Conf-" + loginID}); err != nil {
		t.Fatal(err)
	}
	if err := tb.svc.SetPrivileges(ctx, master, loginID, banking.Privileges{Inquiry: true, TransferRequest: true,
		TransactionLimit: 5_000_000, DailyLimit: 20_000_000}); err != nil {
		t.Fatal(err)
	}
	return tb.user(t, loginID)
}

// transfer has clerk request a transfer and master approve it.
func (tb testBanking) transfer(t *testing.T, clerk, master identity.User, confirmation string, from int64, to banking.PayeeAccount, amount int64, date calendar.Date) banking.Transfer {
	t.Helper()
	ctx := context.Background()
	tr, err := tb.svc.RequestTransfer(ctx, clerk, banking.TransferRequest{FromAccountID: from, Payee: to, Amount: amount, ExecutionDate: date})
	if err != nil {
		t.Fatalf("request %d yen to %+v: %v", amount, to, err)
	}
	tr, err = tb.svc.Approve(ctx, master, tr.ID, tr.Version, confirmation)
	if err != nil {
		t.Fatalf("approve transfer %d: %v", tr.ID, err)
	}
	return tr
}

// TestInterbankExport writes the day's transfers to other banks as 総合振込
// files, one per paying account, and checks them field by field: the
// transfers inside this bank and those of a later day stay out, an existing
// file is never overwritten, and what was written is not written again.
func TestInterbankExport(t *testing.T) {
	engines(t, testInterbankExport)
}

func testInterbankExport(t *testing.T, b bank) {
	ctx := context.Background()
	db := b.open(t)
	tb := newTestBanking(t, db)
	orgA := createOrg(t, b, "ひかり労働組合", "hikari01")
	orgB := createOrg(t, b, "みどり生協", "midori01")
	aOrd := openAccount(t, b, orgA.Code, "ordinary", "001", "1234567", "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ")
	aCur := openAccount(t, b, orgA.Code, "current", "001", "7654321", "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ")
	bOrd := openAccount(t, b, orgB.Code, "ordinary", "002", "1234567", "ﾐﾄﾞﾘｾｲｷﾖｳ")
	for _, a := range []accountListed{aOrd, aCur, bOrd} {
		approved(t, b, b.operator("account", "deposit", "--account", strconv.FormatInt(a.ID, 10), "--amount", "3000000",
			"--description", "ｸﾘｺｼ", "--request-ref", "DEP-"+strconv.FormatInt(a.ID, 10)))
	}
	masterA, masterB := tb.user(t, "hikari01"), tb.user(t, "midori01")
	clerkA, clerkB := tb.clerk(t, masterA, "hclerk01"), tb.clerk(t, masterB, "mclerk01")
	today := calendar.DateOf(time.Now())
	landlord := banking.PayeeAccount{BankCode: "0009", BranchCode: "123", AccountType: banking.Ordinary, AccountNumber: "0001111", Name: "ｶ)ｱｵﾊﾞﾌﾄﾞｳｻﾝ"}
	printer := banking.PayeeAccount{BankCode: "0005", BranchCode: "456", AccountType: banking.Current, AccountNumber: "0002222", Name: "ﾔﾏﾄｲﾝｻﾂ(ｶ"}
	saver := banking.PayeeAccount{BankCode: "9900", BranchCode: "789", AccountType: banking.Savings, AccountNumber: "0003333", Name: "ﾀﾅｶ ｲﾁﾛｳ"}
	here := banking.PayeeAccount{BankCode: server.DefaultBankCode, BranchCode: "002", AccountType: banking.Ordinary, AccountNumber: "1234567", Name: "ﾐﾄﾞﾘｾｲｷﾖｳ"}

	t1 := tb.transfer(t, clerkA, masterA, orgA.Master.ConfirmationPassword, aOrd.ID, landlord, 150_000, today)
	t2 := tb.transfer(t, clerkA, masterA, orgA.Master.ConfirmationPassword, aOrd.ID, printer, 48_600, today)
	t3 := tb.transfer(t, clerkA, masterA, orgA.Master.ConfirmationPassword, aCur.ID, saver, 12_345, today)
	t4 := tb.transfer(t, clerkB, masterB, orgB.Master.ConfirmationPassword, bOrd.ID, landlord, 220_000, today)
	inside := tb.transfer(t, clerkA, masterA, orgA.Master.ConfirmationPassword, aOrd.ID, here, 70_000, today)
	later := tb.transfer(t, clerkA, masterA, orgA.Master.ConfirmationPassword, aOrd.ID, landlord, 99_000, today.AddDays(3))
	for _, tr := range []banking.Transfer{t1, t2, t3, t4, inside} {
		if tr.Status != banking.StatusExecuted {
			t.Fatalf("transfer %d: %s, want executed", tr.ID, tr.Status)
		}
	}
	if later.Status != banking.StatusScheduled {
		t.Fatalf("transfer dated later: %s, want scheduled", later.Status)
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "zengin.txt")
	want := []struct {
		path      string
		org       orgCreated
		acct      accountListed
		typ       zengin.AccountType
		transfers []banking.Transfer
	}{
		{filepath.Join(dir, "zengin-001-ordinary-1234567.txt"), orgA, aOrd, zengin.AccountOrdinary, []banking.Transfer{t1, t2}},
		{filepath.Join(dir, "zengin-001-current-7654321.txt"), orgA, aCur, zengin.AccountChecking, []banking.Transfer{t3}},
		{filepath.Join(dir, "zengin-002-ordinary-1234567.txt"), orgB, bOrd, zengin.AccountOrdinary, []banking.Transfer{t4}},
	}
	exportArgs := func(out string, more ...string) []string {
		return b.operator(append([]string{"--operator", "yamada", "interbank", "export", "--date", today.String(), "--out", out}, more...)...)
	}

	// One of the files exists: nothing is written, nothing marked.
	if err := os.WriteFile(want[1].path, []byte("yesterday's"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, exportArgs(out)...)
	if r.code != 1 || !strings.Contains(r.stderr, want[1].path+" exists already") {
		t.Errorf("export over an existing file: exit %d, stderr %q; want 1 and \"exists already\"", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a refused export wrote files: %v", entries)
	}
	if b, _ := os.ReadFile(want[1].path); string(b) != "yesterday's" {
		t.Errorf("the existing file was changed: %q", b)
	}
	if p, err := tb.svc.InterbankPending(ctx, today); err != nil || len(p) != 4 {
		t.Fatalf("pending after a refused export: %d, %v; want 4", len(p), err)
	}
	if err := os.Remove(want[1].path); err != nil {
		t.Fatal(err)
	}

	// The export: one file per paying account.
	r = mustRun(t, exportArgs(out, "--crlf", "--eof")...)
	for _, w := range want {
		var total int64
		for _, tr := range w.transfers {
			total += tr.Amount
		}
		line := fmt.Sprintf("Wrote %s: %d transfers, total %s yen, from account %s-%s of organization %s.\n",
			w.path, len(w.transfers), groupYen(total), w.acct.Branch, w.acct.Number, w.org.Code)
		if !strings.Contains(r.stdout, line) {
			t.Errorf("export output lacks %q:\n%s", line, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "3 file(s), 4 transfers, total 430,945 yen, marked sent") {
		t.Errorf("export summary:\n%s", r.stdout)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s written although the transfers came from several accounts", out)
	}
	for _, w := range want {
		raw, err := os.ReadFile(w.path)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(w.transfers) + 3; len(raw) != n*122+1 || raw[len(raw)-1] != 0x1A || !bytes.HasSuffix(raw[:len(raw)-1], []byte("\r\n")) {
			t.Errorf("%s: %d bytes, want %d records of 122 bytes and the EOF byte", w.path, len(raw), n)
		}
		f, err := zengin.Parse(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s does not parse: %v", w.path, err)
		}
		wantHeader := zengin.Header{Kind: zengin.KindGeneral, RequesterCode: "00" + w.org.Code, // the 10-digit field, zero-filled
			RequesterName: w.acct.Holder,
			Date:          zengin.MonthDay{Month: today.Month, Day: today.Day}, BankCode: server.DefaultBankCode,
			BranchCode: w.acct.Branch, AccountType: w.typ, AccountNumber: w.acct.Number}
		if diff := cmp.Diff(wantHeader, f.Header); diff != "" {
			t.Errorf("%s header (-want +got):\n%s", w.path, diff)
		}
		var wantRecs []zengin.Transfer
		for _, tr := range w.transfers {
			typ, _ := strconv.Atoi(tr.Payee.AccountType.ZenginCode())
			// The payee's bank and branch names, from the names shipped
			// (a code they lack stays blank).
			var bankName, branchName string
			if bk, ok := zengin.Embedded().Bank(tr.Payee.BankCode); ok {
				bankName = zengin.ZenginName(bk.Kana, 15)
			}
			if br, ok := zengin.Embedded().Branch(tr.Payee.BankCode, tr.Payee.BranchCode); ok {
				branchName = zengin.ZenginName(br.Kana, 15)
			}
			wantRecs = append(wantRecs, zengin.Transfer{BankCode: tr.Payee.BankCode, BankName: bankName, BranchCode: tr.Payee.BranchCode,
				BranchName: branchName, AccountType: zengin.AccountType(typ), AccountNumber: tr.Payee.AccountNumber, PayeeName: tr.Payee.Name, Amount: tr.Amount})
		}
		if diff := cmp.Diff(wantRecs, f.Records); diff != "" {
			t.Errorf("%s records (-want +got):\n%s", w.path, diff)
		}
		for _, tr := range w.transfers {
			got, err := db.TransferByID(ctx, tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.InterbankFile != filepath.Base(w.path) || got.InterbankSentAt.IsZero() {
				t.Errorf("transfer %d: file %q sent at %v; want %s", tr.ID, got.InterbankFile, got.InterbankSentAt, filepath.Base(w.path))
			}
		}
	}
	for _, tr := range []banking.Transfer{inside, later} {
		if got, err := db.TransferByID(ctx, tr.ID); err != nil || got.InterbankFile != "" {
			t.Errorf("transfer %d (%v): written to %q, want no file", tr.ID, err, got.InterbankFile)
		}
	}
	if evs := auditEvents(t, db, audit.TransferInterbankSent); len(evs) != 3 || evs[0].Actor != "operator:yamada" {
		t.Errorf("%d interbank_sent events (%+v), want 3 by operator:yamada", len(evs), evs)
	}

	// Again: nothing left to send.
	again := filepath.Join(dir, "again.txt")
	r = mustRun(t, exportArgs(again)...)
	if !strings.Contains(r.stdout, "no file written") {
		t.Errorf("second export output: %q", r.stdout)
	}
	if _, err := os.Stat(again); err == nil {
		t.Errorf("the second export wrote %s", again)
	}

	// From one account: the file is --out itself, without CR LF or EOF.
	t5 := tb.transfer(t, clerkB, masterB, orgB.Master.ConfirmationPassword, bOrd.ID, printer, 5_000, today)
	single := filepath.Join(dir, "single.dat")
	mustRun(t, exportArgs(single)...)
	raw, err := os.ReadFile(single)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 4*120 {
		t.Errorf("%s: %d bytes, want 4 records of 120 bytes", single, len(raw))
	}
	if f, err := zengin.Parse(bytes.NewReader(raw)); err != nil || len(f.Records) != 1 || f.Records[0].Amount != t5.Amount {
		t.Errorf("%s: %v, %+v", single, err, f)
	}
}

// groupYen formats n with thousands separators.
func groupYen(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
