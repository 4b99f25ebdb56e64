package demo

import (
	"bytes"
	"fmt"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/zengin"
)

// PayrollFileName is the name of the demo's sample 給与振込 file in the
// data directory.
const PayrollFileName = "kyuyo-sample.txt"

// payrollStaff are the staff of ひかり労働組合 paid by the sample payroll
// file: their accounts at other banks and their salaries.
var payrollStaff = []zengin.Transfer{
	{BankCode: "0005", BranchCode: "318", AccountType: zengin.AccountOrdinary, AccountNumber: "3141592", PayeeName: "ﾀﾅｶ ｲﾁﾛｳ", Amount: 285_000},
	{BankCode: "0009", BranchCode: "001", AccountType: zengin.AccountOrdinary, AccountNumber: "2718281", PayeeName: "ｽｽﾞｷ ｼﾞﾛｳ", Amount: 243_500},
	{BankCode: "0001", BranchCode: "120", AccountType: zengin.AccountOrdinary, AccountNumber: "1618033", PayeeName: "ｺﾊﾞﾔｼ ﾐﾕｷ", Amount: 198_000},
}

// PayrollFile returns a sample 給与振込 file (種別コード 11) of ひかり労働組合
// (the first organization) from its account, paying its staff five
// business days after now, well before the bank's deadline, and the
// payment date. A trial user uploads it on 総合振込（ファイル） to see the
// confirmation, the payroll deadline and the names hidden from a user
// without payroll inquiry.
func PayrollFile(orgs []Organization, bankCode string, cal *calendar.Calendar, now time.Time) ([]byte, calendar.Date, error) {
	if len(orgs) == 0 || len(orgs[0].Accounts) == 0 {
		return nil, calendar.Date{}, fmt.Errorf("demo: payroll file: no account of the first organization")
	}
	if cal == nil {
		cal = calendar.Default()
	}
	pay, err := cal.AddBusinessDays(calendar.DateOf(now), 5)
	if err != nil {
		return nil, calendar.Date{}, fmt.Errorf("demo: payroll file: %w", err)
	}
	o, a := orgs[0], orgs[0].Accounts[0]
	f := &zengin.File{Header: zengin.Header{Kind: zengin.KindSalary, RequesterCode: o.Code, RequesterName: "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ",
		Date: zengin.MonthDay{Month: pay.Month, Day: pay.Day}, BankCode: bankCode, BranchCode: a.Branch,
		AccountType: zengin.AccountOrdinary, AccountNumber: a.Number}, Records: payrollStaff}
	var buf bytes.Buffer
	if err := zengin.Write(&buf, f, zengin.WriteOptions{CRLF: true}); err != nil {
		return nil, calendar.Date{}, fmt.Errorf("demo: payroll file: %w", err)
	}
	return buf.Bytes(), pay, nil
}
