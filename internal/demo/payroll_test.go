package demo

import (
	"bytes"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/zengin"
)

// TestPayrollFileIsASalaryFileBeforeItsDeadline: the demo's sample payroll
// file parses as a 給与振込 file from the first organization's account,
// paid five business days later.
func TestPayrollFileIsASalaryFileBeforeItsDeadline(t *testing.T) {
	orgs := Organizations()
	orgs[0].Code = "1234567"
	now := time.Date(2026, 12, 9, 16, 0, 0, 0, calendar.JST)
	raw, pay, err := PayrollFile(orgs, "2950", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if pay != calendar.NewDate(2026, 12, 16) {
		t.Errorf("payment date %s, want 2026-12-16", pay)
	}
	f, err := zengin.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if f.Header.Kind != zengin.KindSalary || f.Header.AccountNumber != orgs[0].Accounts[0].Number || len(f.Records) != len(payrollStaff) ||
		f.Header.Date != (zengin.MonthDay{Month: 12, Day: 16}) {
		t.Errorf("file %+v", f.Header)
	}
}
