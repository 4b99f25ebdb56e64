package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/store"
	"kinko/internal/testutil"
	"kinko/internal/zengin"
)

// payday is Monday 14 December 2026, paid by payroll uploaded on
// bankingNow (Wednesday 9 December, three business days before, the last
// day by the 15:00 deadline).
var payday = calendar.NewDate(2026, time.December, 14)

// payrollBody is the upload of a 給与振込 (種別コード 11) file from the main
// account, paid on payday, to an employee at another bank and one here,
// with the file's own date (no execution_date).
func (o *bankOrg) payrollBody(t *testing.T) map[string]any {
	t.Helper()
	f := &zengin.File{Header: zengin.Header{Kind: zengin.KindSalary, RequesterCode: "1234567890", RequesterName: "ﾃｽﾄﾛｳｿ",
		Date: zengin.MonthDay{Month: payday.Month, Day: payday.Day}, BankCode: thisBankCode, BranchCode: o.main.BranchCode,
		AccountType: zengin.AccountOrdinary, AccountNumber: o.main.Number}, Records: []zengin.Transfer{
		{BankCode: "0005", BranchCode: "123", AccountType: zengin.AccountOrdinary, AccountNumber: "7654321", PayeeName: "ﾔﾏﾀﾞ ﾀﾛｳ", Amount: 251_000},
		{BankCode: thisBankCode, BranchCode: o.second.BranchCode, AccountType: zengin.AccountChecking, AccountNumber: o.second.Number,
			PayeeName: "ｽｽﾞｷ ﾊﾅｺ", Amount: 183_000},
	}}
	var buf bytes.Buffer
	if err := zengin.Write(&buf, f, zengin.WriteOptions{CRLF: true}); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"from_account_id": o.main.ID, "file": base64.StdEncoding.EncodeToString(buf.Bytes()), "file_name": "kyuyo.txt"}
}

// exportFiles keeps the files of an interbank export.
type exportFiles struct{ files map[string][]byte }

func (e *exportFiles) Place(fs []banking.InterbankFile) error {
	for i := range fs {
		fs[i].Name = fmt.Sprintf("zengin-%s-%s.txt", fs[i].Account.Number, fs[i].Kind)
	}
	return nil
}

func (e *exportFiles) Write(f banking.InterbankFile) error {
	if e.files == nil {
		e.files = map[string][]byte{}
	}
	e.files[f.Name] = f.Data
	return nil
}

func (e *exportFiles) Remove(f banking.InterbankFile) error { delete(e.files, f.Name); return nil }

// TestPayrollAPI_UploadedConfirmedApprovedExported: a 給与振込 file is
// uploaded for a confirmation (items with bank and branch names, count,
// total, the file's date, the deadline), confirmed, approved by a user
// without payroll inquiry, who sees the count and total but no name or
// amount, executed on its day and exported in a 給与振込 file that parses
// back with 種別コード 11.
func TestPayrollAPI_UploadedConfirmedApprovedExported(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "給与労組", false)

		r := o.requester.do(http.MethodPost, "/api/v1/batch-uploads", o.payrollBody(t))
		expect(t, "upload", r, http.StatusCreated, "")
		if r.String("kind") != "salary" || r.Body["count"].(float64) != 2 || r.Body["total"].(float64) != 434_000 ||
			r.String("execution_date") != payday.String() || r.String("date_source") != "file" ||
			r.String("payroll_deadline") != "2026-12-09T06:00:00Z" {
			t.Fatalf("upload answer: %s", r.Raw)
		}
		items := r.Body["transfers"].([]any)
		first := items[0].(map[string]any)["payee"].(map[string]any)
		if first["bank_name"] != "三菱ＵＦＪ" || first["branch_name"] != "横浜中山" {
			t.Errorf("the item's bank and branch: %v", first)
		}
		// The requester has no payroll inquiry: no names, no amounts.
		if first["name"] != "" || items[0].(map[string]any)["amount"].(float64) != 0 || items[0].(map[string]any)["payroll_hidden"] != true {
			t.Errorf("a payroll item shown to a user without payroll inquiry: %v", items[0])
		}
		upload := fmt.Sprintf("/api/v1/batch-uploads/%d", idOf(t, r))
		if bs := o.master.do(http.MethodGet, "/api/v1/transfer-batches", nil); bs.Body["total"].(float64) != 0 {
			t.Fatalf("a batch before the confirmation: %s", bs.Raw)
		}
		expect(t, "another user's upload", o.master.do(http.MethodGet, upload, nil), http.StatusNotFound, "not_found")

		r = o.requester.do(http.MethodPost, upload+"/confirmation", nil)
		expect(t, "confirm", r, http.StatusCreated, "")
		batchID := idOf(t, r)
		if r.String("kind") != "salary" || r.String("status") != "awaiting_approval" {
			t.Fatalf("confirmed: %s", r.Raw)
		}
		expect(t, "confirm twice", o.requester.do(http.MethodPost, upload+"/confirmation", nil), http.StatusNotFound, "not_found")

		batch := fmt.Sprintf("/api/v1/transfer-batches/%d", batchID)
		seen := o.approver.do(http.MethodGet, batch, nil)
		if seen.Body["total"].(float64) != 434_000 || strings.Contains(string(seen.Raw), "ﾔﾏﾀﾞ") || strings.Contains(string(seen.Raw), "251000") {
			t.Errorf("the approver without payroll inquiry sees: %s", seen.Raw)
		}
		item := seen.Body["transfers"].([]any)[0].(map[string]any)
		one := o.approver.do(http.MethodGet, fmt.Sprintf("/api/v1/transfers/%d", int64(item["id"].(float64))), nil)
		expect(t, "one item", one, http.StatusOK, "")
		if strings.Contains(string(one.Raw), "ﾔﾏﾀﾞ") || one.Body["amount"].(float64) != 0 || one.Body["payroll_hidden"] != true {
			t.Errorf("one payroll item shown to a user without payroll inquiry: %s", one.Raw)
		}
		if m := o.master.do(http.MethodGet, batch, nil); !strings.Contains(string(m.Raw), "ﾔﾏﾀﾞ ﾀﾛｳ") {
			t.Errorf("the master does not see the names: %s", m.Raw)
		}
		r = o.approver.decide(http.MethodPost, batch+"/approval", map[string]string{"confirmation_password": o.approver.creds.Confirmation})
		expect(t, "approve", r, http.StatusOK, "")
		if r.String("status") != "scheduled" {
			t.Fatalf("approved: %s", r.Raw)
		}

		ctx := context.Background()
		b.Clock.Set(payday.At(calendar.Clock{Hour: 9}))
		if _, err := b.Services.Banking.ExecuteDue(ctx, payday); err != nil {
			t.Fatal(err)
		}
		out := &exportFiles{}
		files, err := b.Services.Banking.ExportInterbank(ctx, banking.InterbankExport{Through: payday, Operator: "test"}, out)
		if err != nil || len(files) != 1 || files[0].Kind != banking.BatchSalary {
			t.Fatalf("export: %+v %v, want one 給与振込 file", files, err)
		}
		zf, err := zengin.Parse(bytes.NewReader(files[0].Data))
		if err != nil {
			t.Fatalf("the export does not parse: %v", err)
		}
		if zf.Header.Kind != zengin.KindSalary || len(zf.Records) != 1 || zf.Records[0].PayeeName != "ﾔﾏﾀﾞ ﾀﾛｳ" ||
			zf.Records[0].Amount != 251_000 || zf.Records[0].BankName == "" {
			t.Errorf("exported %+v %+v", zf.Header, zf.Records)
		}
	})
}

// TestPayrollAPI_RefusedTheDayAfterItsDeadline: the same file on the next
// day is refused with payroll_deadline, naming the last day; cancelling an
// upload drops it; the privilege is set by the master.
func TestPayrollAPI_RefusedTheDayAfterItsDeadline(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "給与労組", false)

		r := o.requester.do(http.MethodPost, "/api/v1/batch-uploads", o.payrollBody(t))
		expect(t, "upload", r, http.StatusCreated, "")
		upload := fmt.Sprintf("/api/v1/batch-uploads/%d", idOf(t, r))
		expect(t, "cancel", o.requester.do(http.MethodDelete, upload, nil), http.StatusNoContent, "")
		expect(t, "confirm after cancel", o.requester.do(http.MethodPost, upload+"/confirmation", nil), http.StatusNotFound, "not_found")

		b.Clock.Set(bankingNow.Add(24 * time.Hour))
		o.requester, o.master = o.login(t, b, o.requester.creds), o.login(t, b, o.org.Master)
		r = o.requester.do(http.MethodPost, "/api/v1/batch-uploads", o.payrollBody(t))
		expect(t, "the day after the deadline", r, http.StatusConflict, "payroll_deadline")
		if r.String("last_day") != "2026-12-09" || !strings.Contains(r.String("message"), "2026年12月9日") ||
			!strings.Contains(r.String("message"), "9 Dec 2026") {
			t.Errorf("refusal: %s", r.Raw)
		}
		expect(t, "straight to a batch", o.requester.do(http.MethodPost, "/api/v1/transfer-batches", o.payrollBody(t)),
			http.StatusConflict, "payroll_deadline")

		// The master gives payroll inquiry; leaving it out keeps it.
		path := "/api/v1/users/" + o.requester.creds.LoginID + "/privileges"
		body := map[string]any{"inquiry": true, "transfer_request": true, "approval": false, "payroll_inquiry": true,
			"transaction_limit": 5_000_000, "daily_limit": 5_000_000, "confirmation_password": o.org.Master.Confirmation}
		r = o.master.do(http.MethodPut, path, body)
		expect(t, "set payroll inquiry", r, http.StatusOK, "")
		delete(body, "payroll_inquiry")
		r = o.master.do(http.MethodPut, path, body)
		if r.Body["payroll_inquiry"] != true {
			t.Errorf("payroll inquiry left out was taken away: %s", r.Raw)
		}
		if m := o.master.do(http.MethodGet, "/api/v1/users/"+o.org.Master.LoginID+"/privileges", nil); m.Body["payroll_inquiry"] != true {
			t.Errorf("the master's privileges: %s", m.Raw)
		}
	})
}

// TestFees_UploadConfirmationShowsTheFees: the confirmation of an upload
// answers each item's fee from the bank's table (当方負担) and their total,
// before anything is requested.
func TestFees_UploadConfirmationShowsTheFees(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingNow, testutil.WithFees)
		o := newBankOrg(t, b, "手数料確認労組", false)
		r := o.master.do(http.MethodPost, "/api/v1/batch-uploads", o.payrollBody(t))
		expect(t, "upload", r, http.StatusCreated, "")
		items := r.Body["transfers"].([]any)
		var sum float64
		for _, it := range items {
			sum += it.(map[string]any)["fee"].(float64)
		}
		// The first item goes to another bank, from 30,000 yen.
		if first := items[0].(map[string]any)["fee"].(float64); first != float64(testutil.Fees.OtherBank.From30000) {
			t.Errorf("the first item's fee %v, want %d", first, testutil.Fees.OtherBank.From30000)
		}
		if fees, _ := r.Body["fees"].(float64); fees != sum || fees == 0 {
			t.Errorf("the upload's fees %v, want the items' %v", r.Body["fees"], sum)
		}
	})
}
