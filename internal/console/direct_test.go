package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/outbox"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestOutboxListsAndResendsAFailedMail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		org := f.bank.NewOrg(t, "メール株式会社", true)
		f.bank.IssueCertificate(t, org.Master) // the issuance mails the master
		now := f.bank.Clock.Now()
		mails, err := db.ClaimMail(ctx, now, time.Minute, 100)
		if err != nil || len(mails) == 0 {
			t.Fatalf("no mail to claim: %v", err)
		}
		failed := mails[0]
		if err := db.MarkMailDropped(ctx, failed.ID, now, "no address"); err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(failed.ID, 10)
		p := f.clerk.get("/outbox?state=failed")
		p.mustContain(t, "送信できず", "no address", `action="/outbox/`+id+`/resend"`, org.Code)
		// An auditor sees it, without the resend.
		if a := f.auditor.get("/outbox?state=failed"); !strings.Contains(a.body, "no address") || strings.Contains(a.body, "/resend") {
			t.Error("the auditor's outbox")
		}
		p = f.clerk.post("/outbox/"+id+"/resend", url.Values{})
		if p.status != http.StatusSeeOther {
			t.Fatalf("resend: %d\n%s", p.status, excerpt(p.body))
		}
		entries, _ := db.OutboxEntries(ctx, outbox.StateFailed, 0)
		for _, e := range entries {
			if e.ID == failed.ID {
				t.Fatal("the mail is still failed")
			}
		}
		again, err := db.ClaimMail(ctx, f.bank.Clock.Now(), time.Minute, 100)
		found := false
		for _, m := range again {
			found = found || m.ID == failed.ID
		}
		if err != nil || !found {
			t.Errorf("the resent mail is not due: %v", err)
		}
		ev, _ := db.AuditEntries(ctx, audit.Query{Type: audit.MailResent})
		if len(ev) != 1 || ev[0].Actor != "operator:tanaka" {
			t.Errorf("resend events %+v", ev)
		}
		// Only a failed mail is sent again.
		p = f.clerk.post("/outbox/"+id+"/resend", url.Values{})
		if p.status != http.StatusConflict {
			t.Errorf("resending a mail that has not failed: %d, want 409", p.status)
		}
	})
}

func TestApproverAddsAnOperatorWhoseCertificateDownloadsOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if p := f.clerk.get("/staff"); strings.Contains(p.body, `id="staff-form"`) {
			t.Error("a clerk is shown the form to add operators")
		}
		if p := f.clerk.post("/staff", url.Values{"name": {"ito"}, "display_name": {"伊藤"}, "role": {"clerk"}}); p.status != http.StatusForbidden {
			t.Errorf("a clerk adds an operator: %d, want 403", p.status)
		}
		p := f.approver.post("/staff", url.Values{"name": {"ito"}, "display_name": {""}, "role": {"clerk"}})
		if p.status != http.StatusBadRequest {
			t.Fatalf("no display name: %d", p.status)
		}
		p.mustContain(t, `value="ito"`)
		p = f.approver.post("/staff", url.Values{"name": {"ito"}, "display_name": {"伊藤 四郎"}, "role": {"clerk"}})
		if p.status != http.StatusOK {
			t.Fatalf("add: %d\n%s", p.status, excerpt(p.body))
		}
		p.mustContain(t, "伊藤 四郎", "file-password-ito")
		link := between(p.body, `id="download" href="`, `"`)
		if link == "" {
			t.Fatal("no download link")
		}
		d := f.approver.get(link)
		if d.status != http.StatusOK || d.body != "PKCS12 of ito" || !strings.Contains(d.header.Get("Content-Disposition"), "ito.p12") {
			t.Fatalf("download: %d %q %q", d.status, d.body, d.header.Get("Content-Disposition"))
		}
		if d := f.approver.get(link); d.status != http.StatusGone {
			t.Errorf("a second download: %d, want 410", d.status)
		}
		list, _ := f.ops.ListStaff(context.Background())
		if len(list) != 5 || list[4].Name != "ito" || list[4].Role != operators.RoleClerk {
			t.Errorf("staff %+v", list)
		}
	})
}

func TestInterbankExportWithNothingToSend(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.clerk.post("/interbank", url.Values{"date": {f.bank.Services.Banking.Today().String()}})
		if p.status != http.StatusOK {
			t.Fatalf("status %d\n%s", p.status, excerpt(p.body))
		}
		p.mustContain(t, "書き出す振込はありませんでした")
		if p := f.clerk.post("/interbank", url.Values{"date": {"tomorrow"}}); p.status != http.StatusBadRequest {
			t.Errorf("a bad date: %d, want 400", p.status)
		}
		if p := f.clerk.get("/interbank/files/..%2Fkinko.db"); p.status != http.StatusNotFound {
			t.Errorf("a path out of the directory: %d", p.status)
		}
	})
}

func TestInterbankExportWritesTheFilesToDownload(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		// 10:00 in Japan on Wednesday 1 April 2026: a business day,
		// before the cut-off.
		at := time.Date(2026, 4, 1, 10, 0, 0, 0, calendar.JST)
		f := newFixtureAt(t, db, at)
		ctx := context.Background()
		bk, ident := f.bank.Services.Banking, f.bank.Services.Identity
		org := f.bank.NewOrg(t, "他行振込株式会社", false)
		acct, err := bk.OpenAccount(ctx, org.Code, banking.Ordinary, "101", "2000001", "ﾀｺｳ", "test", "ACC-IB")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bk.Deposit(ctx, acct.ID, 100_000, "ﾆﾕｳｷﾝ", "test", "DEP-IB"); err != nil {
			t.Fatal(err)
		}
		master, _, _ := ident.UserByLoginID(ctx, org.Master.LoginID)
		all := banking.Privileges{Inquiry: true, TransferRequest: true, Approval: true, TransactionLimit: 5_000_000, DailyLimit: 5_000_000}
		var users []identity.User
		var creds []testutil.Creds
		for range 2 {
			c := f.bank.NewGeneralUser(t, org)
			if err := bk.SetPrivileges(ctx, master, c.LoginID, all); err != nil {
				t.Fatal(err)
			}
			u, _, _ := ident.UserByLoginID(ctx, c.LoginID)
			users, creds = append(users, u), append(creds, c)
		}
		tr, err := bk.RequestTransfer(ctx, users[0], banking.TransferRequest{FromAccountID: acct.ID, Amount: 12_345,
			Payee: banking.PayeeAccount{BankCode: "0005", BranchCode: "123", AccountType: banking.Ordinary, AccountNumber: "7654321", Name: "ﾀﾅｶ ﾊﾅｺ"}})
		if err != nil {
			t.Fatal(err)
		}
		if tr, err = bk.Approve(ctx, users[1], tr.ID, tr.Version, creds[1].Confirmation); err != nil || tr.Status != banking.StatusExecuted {
			t.Fatalf("approve: %v, status %s", err, tr.Status)
		}
		p := f.clerk.post("/interbank", url.Values{"date": {"2026-04-01"}})
		if p.status != http.StatusOK {
			t.Fatalf("export: %d\n%s", p.status, excerpt(p.body))
		}
		p.mustContain(t, "ファイルを書き出しました", org.Code, "12,345")
		link := between(p.body, `<td><a href="`, `"`)
		if !strings.HasPrefix(link, "/interbank/files/interbank-20260401-") {
			t.Fatalf("download link %q", link)
		}
		d := f.auditor.get(link)
		if d.status != http.StatusOK || !strings.HasPrefix(d.body, "1") || !strings.Contains(d.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download: %d %q", d.status, d.header.Get("Content-Disposition"))
		}
		if got, _ := db.TransferByID(ctx, tr.ID); got.InterbankFile == "" || got.InterbankSentAt.IsZero() {
			t.Errorf("the transfer is not recorded as sent: %+v", got)
		}
		// Sent once: a second export has nothing.
		f.clerk.post("/interbank", url.Values{"date": {"2026-04-01"}}).mustContain(t, "書き出す振込はありませんでした")
	})
}
