package config

import (
	"strings"
	"testing"
	"time"

	"kinko/internal/calendar"
)

func TestLoadBankingSettings(t *testing.T) {
	p := writeFile(t, "kinko.json", `{
  "bank_code": "2963",
  "transfer_cutoff": "14:30",
  "operating_hours": {"daily": "06:00-23:00", "maintenance": []}
}`)
	got, err := Load(p, envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.BankCode != "2963" || got.TransferCutoff != (calendar.Clock{Hour: 14, Minute: 30}) {
		t.Fatalf("bank_code %q, transfer_cutoff %v", got.BankCode, got.TransferCutoff)
	}
	if open, _ := got.OperatingHours.Open(time.Date(2026, 11, 25, 5, 0, 0, 0, calendar.JST)); open {
		t.Error("open at 05:00 with daily 06:00-23:00")
	}
	if open, _ := got.OperatingHours.Open(time.Date(2026, 11, 25, 12, 0, 0, 0, calendar.JST)); !open {
		t.Error("closed at 12:00 with daily 06:00-23:00")
	}

	t.Run("from the environment", func(t *testing.T) {
		got, err := Load("", envOf(map[string]string{"KINKO_BANK_CODE": "2951", "KINKO_TRANSFER_CUTOFF": "15:30",
			"KINKO_OPERATING_HOURS": `{"daily": "00:00-24:00"}`}))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.BankCode != "2951" || got.TransferCutoff != (calendar.Clock{Hour: 15, Minute: 30}) {
			t.Fatalf("bank_code %q, transfer_cutoff %v", got.BankCode, got.TransferCutoff)
		}
	})

	for _, c := range []struct{ name, env, value, want string }{
		{"bank code letters", "KINKO_BANK_CODE", "29A0", "bank_code"},
		{"bank code short", "KINKO_BANK_CODE", "295", "bank_code"},
		{"cut-off", "KINKO_TRANSFER_CUTOFF", "25:00", "KINKO_TRANSFER_CUTOFF"},
		{"hours", "KINKO_OPERATING_HOURS", `{"daily": "nine to five"}`, "KINKO_OPERATING_HOURS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("", envOf(map[string]string{c.env: c.value}))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load with %s=%s: %v, want an error naming %s", c.env, c.value, err, c.want)
			}
		})
	}
}

// TestHardening_PayeeCheckSettings: the limit of checks of accounts at this
// bank per user has defaults, is read from the file and the environment,
// and refuses values that would disable it.
func TestHardening_PayeeCheckSettings(t *testing.T) {
	got, err := Load("", envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.PayeeChecks != 200 || time.Duration(got.PayeeCheckWindow) != time.Hour {
		t.Fatalf("defaults: payee_checks %d, payee_check_window %v; want 200, 1h", got.PayeeChecks, time.Duration(got.PayeeCheckWindow))
	}
	p := writeFile(t, "kinko.json", `{"payee_checks": 50, "payee_check_window": "30m"}`)
	if got, err = Load(p, envOf(nil)); err != nil || got.PayeeChecks != 50 || time.Duration(got.PayeeCheckWindow) != 30*time.Minute {
		t.Fatalf("from the file: %d, %v, %v", got.PayeeChecks, time.Duration(got.PayeeCheckWindow), err)
	}
	got, err = Load("", envOf(map[string]string{"KINKO_PAYEE_CHECKS": "20", "KINKO_PAYEE_CHECK_WINDOW": "2h"}))
	if err != nil || got.PayeeChecks != 20 || time.Duration(got.PayeeCheckWindow) != 2*time.Hour {
		t.Fatalf("from the environment: %d, %v, %v", got.PayeeChecks, time.Duration(got.PayeeCheckWindow), err)
	}
	for _, c := range []struct{ env, value, want string }{
		{"KINKO_PAYEE_CHECKS", "-1", "payee_checks"},
		{"KINKO_PAYEE_CHECK_WINDOW", "10s", "payee_check_window"},
	} {
		if _, err := Load("", envOf(map[string]string{c.env: c.value})); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load with %s=%s: %v, want an error naming %s", c.env, c.value, err, c.want)
		}
	}
}

// TestTransferFees: the fee table has a labour bank's defaults, takes the
// fees a bank publishes from the file and the environment (one left out is
// the default's, 0 included as a fee of its own), and refuses a fee out of
// range or a key it does not know, naming it.
func TestTransferFees(t *testing.T) {
	fees := func(c Config) [6]int64 {
		var out [6]int64
		for i, k := range []string{"same_branch_below_30000", "same_branch_from_30000", "other_branch_below_30000",
			"other_branch_from_30000", "other_bank_below_30000", "other_bank_from_30000"} {
			out[i] = c.TransferFees.Fee(k)
		}
		return out
	}
	t.Run("defaults", func(t *testing.T) {
		got, err := Load("", envOf(nil))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if want := [6]int64{0, 0, 0, 0, 220, 330}; fees(got) != want {
			t.Fatalf("fees %v, want %v", fees(got), want)
		}
	})
	t.Run("from the file", func(t *testing.T) {
		p := writeFile(t, "kinko.json", `{"transfer_fees": {"same_branch_below_30000": 0, "other_branch_below_30000": 110,
  "other_branch_from_30000": 220, "other_bank_below_30000": 0, "other_bank_from_30000": 440}}`)
		got, err := Load(p, envOf(nil))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if want := [6]int64{0, 0, 110, 220, 0, 440}; fees(got) != want {
			t.Fatalf("fees %v, want %v", fees(got), want)
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		got, err := Load("", envOf(map[string]string{"KINKO_TRANSFER_FEES": `{"other_bank_below_30000": 154}`}))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if want := [6]int64{0, 0, 0, 0, 154, 330}; fees(got) != want {
			t.Fatalf("fees %v, want %v", fees(got), want)
		}
	})
	for _, c := range []struct{ name, file, want string }{
		{"negative", `{"transfer_fees": {"other_bank_below_30000": -1}}`, "other_bank_below_30000 -1"},
		{"too large", `{"transfer_fees": {"same_branch_from_30000": 10000}}`, "same_branch_from_30000 10000"},
		{"unknown key", `{"transfer_fees": {"other_bank_under_30000": 220}}`, "other_bank_under_30000"},
		{"not a number", `{"transfer_fees": {"other_bank_below_30000": "220円"}}`, "other_bank_below_30000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "kinko.json", c.file), envOf(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load %s: %v, want an error naming %s", c.file, err, c.want)
			}
		})
	}
	t.Run("environment not an object", func(t *testing.T) {
		_, err := Load("", envOf(map[string]string{"KINKO_TRANSFER_FEES": `220`}))
		if err == nil || !strings.Contains(err.Error(), "KINKO_TRANSFER_FEES") {
			t.Fatalf("Load: %v, want an error naming KINKO_TRANSFER_FEES", err)
		}
	})
}

// TestPayrollDeadlineSettings: the deadline of 給与・賞与振込 defaults to 3
// business days before the payment date at 15:00, is read from the
// environment, and refuses a number of days out of range.
func TestPayrollDeadlineSettings(t *testing.T) {
	got, err := Load("", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.PayrollDeadlineDays != 3 || got.PayrollCutoff != (calendar.Clock{Hour: 15}) {
		t.Errorf("defaults: %d days, %v", got.PayrollDeadlineDays, got.PayrollCutoff)
	}
	got, err = Load("", envOf(map[string]string{"KINKO_PAYROLL_DEADLINE_DAYS": "2", "KINKO_PAYROLL_CUTOFF": "11:30"}))
	if err != nil {
		t.Fatal(err)
	}
	if got.PayrollDeadlineDays != 2 || got.PayrollCutoff != (calendar.Clock{Hour: 11, Minute: 30}) {
		t.Errorf("from the environment: %d days, %v", got.PayrollDeadlineDays, got.PayrollCutoff)
	}
	if _, err := Load("", envOf(map[string]string{"KINKO_PAYROLL_DEADLINE_DAYS": "-1"})); err == nil || !strings.Contains(err.Error(), "payroll_deadline_days") {
		t.Errorf("-1 days: %v", err)
	}
}
