package banking_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
	"kinko/internal/zengin"
)

// payday is Monday 6 April 2026: three business days after day0
// (Wednesday 1 April), whose 15:00 is its payroll deadline.
var payday = calendar.NewDate(2026, time.April, 6)

// payroll is a 給与振込 request of two employees, one here and one at
// another bank, paid on payday.
func payroll(from int64, here banking.Account) banking.BatchRequest {
	p := payeeOf(here)
	p.Name = "ﾔﾏﾀﾞ ﾀﾛｳ"
	return banking.BatchRequest{FromAccountID: from, ExecutionDate: payday, Kind: banking.BatchSalary, SourceFile: "kyuyo.txt",
		Items: []banking.BatchItem{{Payee: p, Amount: 250_000}, {Payee: elsewhere, Amount: 180_000}}}
}

// kindFiles keeps an export's files by account and kind.
type kindFiles struct{ memoryFiles }

func (m *kindFiles) Place(files []banking.InterbankFile) error {
	for i := range files {
		files[i].Name = "zengin-" + files[i].Account.Number + "-" + string(files[i].Kind) + ".txt"
	}
	return nil
}

// TestPayrollBatchApprovedAndExportedWithItsKind: a 給与振込 batch is
// requested, approved and executed like a 総合振込 batch; its item to
// another bank is exported in a file of its own with 種別コード 11, beside
// the 総合振込 file (21) of the same account, and the files parse back.
func TestPayrollBatchApprovedAndExportedWithItsKind(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o, staff := f.newOrg("労組"), f.newOrg("職員")
		acct, here := f.newAccount(o, 1_000_000), f.newAccount(staff, 0)
		appr := f.newUser(o, all)
		b, err := f.svc.CreateBatch(f.ctx, o.master.User, payroll(acct.ID, here))
		if err != nil {
			t.Fatalf("create payroll batch: %v", err)
		}
		if b.Kind != banking.BatchSalary || b.ExecutionDate != payday || b.Count != 2 || b.Total != 430_000 {
			t.Fatalf("batch %+v", b)
		}
		if got, _ := f.db.BatchByID(f.ctx, b.ID); got.Kind != banking.BatchSalary {
			t.Fatalf("stored kind %q", got.Kind)
		}
		// A single transfer to another bank from the same account.
		other := elsewhere
		other.Name = "ｶ)ﾄﾘﾋｷｻｷ"
		f.approve(appr, f.request(o.master, acct.ID, other, 1_000).ID)
		if _, err := f.svc.ApproveBatch(f.ctx, appr.User, b.ID, b.Version, appr.creds.Confirmation); err != nil {
			t.Fatalf("approve: %v", err)
		}
		f.bank.Clock.Set(payday.At(calendar.Clock{Hour: 9}))
		if _, err := f.svc.ExecuteDue(f.ctx, payday); err != nil {
			t.Fatalf("run due: %v", err)
		}
		if bal := f.balance(here.ID); bal != 250_000 {
			t.Errorf("employee's balance %d, want 250000", bal)
		}
		m := &kindFiles{}
		files, err := f.svc.ExportInterbank(f.ctx, banking.InterbankExport{Through: payday, Operator: "test"}, m)
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		if len(files) != 2 || files[0].Kind != banking.BatchGeneral || files[1].Kind != banking.BatchSalary {
			t.Fatalf("files %+v, want a 総合振込 file then a 給与振込 file", files)
		}
		for i, want := range []zengin.Kind{zengin.KindGeneral, zengin.KindSalary} {
			zf, err := zengin.Parse(bytes.NewReader(files[i].Data))
			if err != nil {
				t.Fatalf("parse %s: %v", files[i].Name, err)
			}
			if zf.Header.Kind != want {
				t.Errorf("%s: 種別コード %s, want %s", files[i].Name, zf.Header.Kind, want)
			}
		}
		zf, _ := zengin.Parse(bytes.NewReader(files[1].Data))
		if len(zf.Records) != 1 || zf.Records[0].Amount != 180_000 || zf.Records[0].PayeeName != elsewhere.Name {
			t.Errorf("payroll file's records %+v, want the item to the other bank", zf.Records)
		}
		// The paying account's statement does not name the employees.
		ps, _, err := db.Postings(f.ctx, acct.ID, calendar.Date{}, calendar.Date{}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if strings.Contains(p.Description, "ﾔﾏﾀﾞ") || strings.Contains(p.Description, "ﾊﾅｺ") {
				t.Errorf("posting %q names a payroll payee", p.Description)
			}
		}
		// Nor its amounts, to a user without payroll inquiry: the batch's
		// payments are one line of their total; the master, who has it,
		// sees each.
		clerk := f.newUser(o, banking.Privileges{Inquiry: true})
		payrollLines := func(u identity.User) []banking.Posting {
			tp, err := f.svc.Transactions(f.ctx, u, acct.ID, calendar.Date{}, calendar.Date{}, 1, 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []banking.Posting
			for _, p := range tp.Postings {
				if strings.HasPrefix(p.Description, banking.BatchSalary.Label()) {
					out = append(out, p)
				}
			}
			return out
		}
		each := payrollLines(o.master.User)
		if len(each) != 2 || each[0].Amount+each[1].Amount != -430_000 {
			t.Fatalf("the master's statement: %+v, want 2 payroll lines of -430000 together", each)
		}
		if got := payrollLines(clerk.User); len(got) != 1 || got[0].Amount != -430_000 || got[0].TransferID != 0 ||
			got[0].BalanceAfter != each[1].BalanceAfter || !strings.Contains(got[0].Description, "2件") {
			t.Errorf("the statement of a user without payroll inquiry: %+v, want one line of -430000, 2件, balance %d", got, each[1].BalanceAfter)
		}
		f.verify()
	})
}

// TestPayrollDeadline: a payroll batch is refused from the deadline (15:00,
// three business days before the payment date) on, with the last day it
// could have been requested; 総合振込 for the same date is not.
func TestPayrollDeadline(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o, staff := f.newOrg("労組"), f.newOrg("職員")
		acct, here := f.newAccount(o, 1_000_000), f.newAccount(staff, 0)
		last, at, err := f.svc.PayrollDeadline(payday)
		if err != nil || last != day0 || !at.Equal(day0.At(calendar.Clock{Hour: 15})) {
			t.Fatalf("deadline of %s: %s %s %v, want %s 15:00", payday, last, at, err, day0)
		}
		for _, c := range []struct {
			name string
			now  time.Time
			ok   bool
		}{
			{"before the deadline", day0.At(calendar.Clock{Hour: 14, Minute: 59}), true},
			{"at the deadline", day0.At(calendar.Clock{Hour: 15}), false},
			{"the day after the deadline", day0.AddDays(1).At(calendar.Clock{Hour: 9}), false},
		} {
			t.Run(c.name, func(t *testing.T) {
				f.bank.Clock.Set(c.now)
				_, err := f.svc.StageBatch(f.ctx, o.master.User, payroll(acct.ID, here), banking.DateFromFile)
				if c.ok {
					wantErr(t, "stage", err, nil)
					return
				}
				var de *banking.PayrollDeadlineError
				if !errors.As(err, &de) || !errors.Is(err, banking.ErrPayrollDeadline) || de.LastDay != day0 || de.Payment != payday {
					t.Fatalf("stage: %v, want the deadline error naming %s", err, day0)
				}
				if !strings.Contains(de.Ja(), "2026年4月1日") || !strings.Contains(de.En(), "1 Apr 2026") {
					t.Errorf("messages %q / %q do not name the last day", de.Ja(), de.En())
				}
				_, err = f.svc.CreateBatch(f.ctx, o.master.User, payroll(acct.ID, here))
				wantErr(t, "create", err, banking.ErrPayrollDeadline)
				general := payroll(acct.ID, here)
				general.Kind = banking.BatchGeneral
				_, err = f.svc.StageBatch(f.ctx, o.master.User, general, banking.DateFromFile)
				wantErr(t, "総合振込 for the same day", err, nil)
			})
		}
	})
}

// TestPayrollApprovalAfterItsDeadline: a payroll batch requested in time
// is not approved after the deadline either; sent back, it is corrected
// with a later payment date.
func TestPayrollApprovalAfterItsDeadline(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o, staff := f.newOrg("労組"), f.newOrg("職員")
		acct, here := f.newAccount(o, 1_000_000), f.newAccount(staff, 0)
		appr := f.newUser(o, all)
		b, err := f.svc.CreateBatch(f.ctx, o.master.User, payroll(acct.ID, here))
		if err != nil {
			t.Fatal(err)
		}
		f.bank.Clock.Set(day0.At(calendar.Clock{Hour: 15, Minute: 1}))
		_, err = f.svc.ApproveBatch(f.ctx, appr.User, b.ID, b.Version, appr.creds.Confirmation)
		wantErr(t, "approve after the deadline", err, banking.ErrPayrollDeadline)
		if _, err := f.svc.SendBackBatch(f.ctx, appr.User, b.ID, b.Version, "支払日を変えてください"); err != nil {
			t.Fatalf("send back: %v", err)
		}
	})
}

// TestPayrollNamesHiddenWithoutPayrollInquiry: a user without the
// payroll-inquiry privilege sees a payroll batch's count and total, never
// its payees' names and amounts (batch, transfer, list); the privilege, set
// by the master, shows them; the master always sees them.
func TestPayrollNamesHiddenWithoutPayrollInquiry(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o, staff := f.newOrg("労組"), f.newOrg("職員")
		acct, here := f.newAccount(o, 1_000_000), f.newAccount(staff, 0)
		clerk := f.newUser(o, all)
		b, err := f.svc.CreateBatch(f.ctx, o.master.User, payroll(acct.ID, here))
		if err != nil {
			t.Fatal(err)
		}
		got, ts, err := f.svc.Batch(f.ctx, clerk.User, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Count != 2 || got.Total != 430_000 {
			t.Errorf("count and total %d %d, want them shown", got.Count, got.Total)
		}
		for _, tr := range ts {
			if !tr.Hidden || tr.Payee.Name != banking.Hidden || tr.Amount != 0 {
				t.Errorf("item %+v shown to a user without payroll inquiry", tr.Payee)
			}
		}
		one, err := f.svc.Transfer(f.ctx, clerk.User, ts[0].ID)
		if err != nil || !one.Hidden || one.Amount != 0 {
			t.Errorf("transfer: %+v %v, want hidden", one, err)
		}
		page, err := f.svc.Transfers(f.ctx, clerk.User, banking.TransferQuery{IncludeBatchItems: true})
		if err != nil || len(page.Transfers) != 2 {
			t.Fatalf("list: %v %v", page, err)
		}
		for _, tr := range page.Transfers {
			if tr.Amount != 0 || tr.Payee.Name != banking.Hidden {
				t.Errorf("listed %+v, want hidden", tr)
			}
		}
		_, ts, _ = f.svc.Batch(f.ctx, o.master.User, b.ID)
		if ts[0].Hidden || ts[0].Payee.Name != "ﾔﾏﾀﾞ ﾀﾛｳ" || ts[0].Amount != 250_000 {
			t.Errorf("the master sees %+v", ts[0])
		}
		p := all
		p.PayrollInquiry = true
		if err := f.svc.SetPrivileges(f.ctx, o.master.User, clerk.LoginID, p); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Privileges(f.ctx, o.master.User, clerk.LoginID); !got.PayrollInquiry {
			t.Errorf("privileges %+v, want payroll inquiry kept", got)
		}
		_, ts, _ = f.svc.Batch(f.ctx, clerk.User, b.ID)
		if ts[0].Hidden || ts[0].Amount != 250_000 {
			t.Errorf("with payroll inquiry: %+v", ts[0])
		}
	})
}

// TestBatchConfirmation: an upload is kept until its requester confirms
// it (then requested once), or cancels it (then nothing is requested); the
// draft shows the date and why it moved; another user cannot see it; it
// expires.
func TestBatchConfirmation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// The bank's calendar moves a date off a holiday, as served.
		cal := calendar.Default()
		svc, err := banking.New(banking.Config{Store: db, Identity: f.ident, Now: f.bank.Clock.Now, BankCode: thisBank,
			ExecutionDate: func(now time.Time, d calendar.Date, interbank bool) (calendar.Date, error) {
				out, _, err := cal.ExecutionDate(now, d, interbank, calendar.DefaultCutoff)
				return out, err
			}})
		if err != nil {
			t.Fatal(err)
		}
		f.svc = svc
		o, staff := f.newOrg("労組"), f.newOrg("職員")
		acct, here := f.newAccount(o, 1_000_000), f.newAccount(staff, 0)
		clerk := f.newUser(o, all)
		r := payroll(acct.ID, here)
		r.Kind, r.ExecutionDate = banking.BatchGeneral, calendar.NewDate(2026, time.April, 4) // a Saturday
		r.IdempotencyKey = "upload-1"
		d, err := f.svc.StageBatch(f.ctx, clerk.User, r, banking.DateFromPage)
		if err != nil {
			t.Fatal(err)
		}
		if d.Batch.Count != 2 || d.Batch.Total != 430_000 || d.Batch.ExecutionDate != payday || d.Reason.Code != calendar.ReasonHoliday ||
			d.Source != banking.DateFromPage || len(d.Items) != 2 {
			t.Fatalf("draft %+v", d)
		}
		if n := f.count(`SELECT COUNT(*) FROM transfer_batches`); n != 0 {
			t.Fatalf("%d batches before the confirmation", n)
		}
		_, err = f.svc.BatchDraft(f.ctx, o.master.User, d.ID)
		wantErr(t, "another user's draft", err, banking.ErrNotFound)
		_, err = f.svc.ConfirmBatch(f.ctx, o.master.User, d.ID)
		wantErr(t, "confirm another user's draft", err, banking.ErrNotFound)
		b, err := f.svc.ConfirmBatch(f.ctx, clerk.User, d.ID)
		if err != nil || b.Count != 2 || b.ExecutionDate != payday {
			t.Fatalf("confirm: %+v %v", b, err)
		}
		_, err = f.svc.ConfirmBatch(f.ctx, clerk.User, d.ID)
		wantErr(t, "confirm twice", err, banking.ErrNotFound)
		if n := f.count(`SELECT COUNT(*) FROM transfer_batches`); n != 1 {
			t.Fatalf("%d batches after the confirmation", n)
		}

		r.IdempotencyKey = "upload-2"
		d, err = f.svc.StageBatch(f.ctx, clerk.User, r, banking.DateFromPage)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "cancel", f.svc.DiscardBatch(f.ctx, clerk.User, d.ID), nil)
		_, err = f.svc.ConfirmBatch(f.ctx, clerk.User, d.ID)
		wantErr(t, "confirm after cancel", err, banking.ErrNotFound)

		d, err = f.svc.StageBatch(f.ctx, clerk.User, r, banking.DateFromPage)
		if err != nil {
			t.Fatal(err)
		}
		f.bank.Clock.Advance(banking.DraftLifetime)
		_, err = f.svc.ConfirmBatch(f.ctx, clerk.User, d.ID)
		wantErr(t, "confirm after it expired", err, banking.ErrNotFound)
		if n := f.count(`SELECT COUNT(*) FROM transfer_batches`); n != 1 {
			t.Fatalf("%d batches after a cancel and an expiry", n)
		}
		// Bounded: at most MaxDrafts-1 are kept when another is made.
		for i := 0; i < banking.MaxDrafts+3; i++ {
			if _, err := f.svc.StageBatch(f.ctx, clerk.User, r, banking.DateFromPage); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.count(`SELECT COUNT(*) FROM batch_drafts WHERE user_id = $1`, clerk.ID); n != banking.MaxDrafts {
			t.Errorf("%d drafts kept, want at most %d", n, banking.MaxDrafts)
		}
	})
}

// TestHardening_UploadCountsItsChecksOnce: the items of an upload to
// accounts here count as checks of them when it is staged, not again when
// its confirmation is shown or confirmed, so that a payroll file of many
// staff at this bank is not refused for being looked at.
func TestHardening_UploadCountsItsChecksOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		svc, err := banking.New(banking.Config{Store: db, Identity: f.ident, Now: f.bank.Clock.Now, BankCode: thisBank, PayeeChecks: 2})
		if err != nil {
			t.Fatal(err)
		}
		f.svc = svc
		o, staff := f.newOrg("労組"), f.newOrg("職員")
		acct, here := f.newAccount(o, 1_000_000), f.newAccount(staff, 0)
		r := payroll(acct.ID, here) // one item here
		d, err := svc.StageBatch(f.ctx, o.master.User, r, banking.DateFromFile)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := svc.BatchDraft(f.ctx, o.master.User, d.ID); err != nil {
				t.Fatalf("show the upload: %v", err)
			}
		}
		if _, err := svc.ConfirmBatch(f.ctx, o.master.User, d.ID); err != nil {
			t.Fatalf("confirm: %v", err)
		}
		if _, err := svc.StageBatch(f.ctx, o.master.User, r, banking.DateFromFile); err != nil {
			t.Fatalf("the second upload (2 checks of 2): %v", err)
		}
		_, err = svc.StageBatch(f.ctx, o.master.User, r, banking.DateFromFile)
		wantErr(t, "the third upload", err, banking.ErrTooManyLookups)
	})
}
