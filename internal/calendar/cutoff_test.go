package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// at is an instant in Japan time.
func at(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, JST)
}

func TestExecutionDate(t *testing.T) {
	c := Default()
	tests := []struct {
		name      string
		now       time.Time
		requested Date
		interbank bool
		cutoff    Clock
		want      Date
		code      ReasonCode
		err       error
	}{
		{name: "interbank before the cut-off", now: at(2026, 11, 25, 14, 59, 59), requested: NewDate(2026, 11, 25), interbank: true,
			want: NewDate(2026, 11, 25)},
		{name: "interbank exactly at 15:00:00 is after the cut-off", now: at(2026, 11, 25, 15, 0, 0), requested: NewDate(2026, 11, 25), interbank: true,
			want: NewDate(2026, 11, 26), code: ReasonAfterCutoff},
		{name: "interbank late evening", now: at(2026, 11, 25, 23, 59, 59), requested: NewDate(2026, 11, 25), interbank: true,
			want: NewDate(2026, 11, 26), code: ReasonAfterCutoff},
		{name: "same bank at 15:00 stays today", now: at(2026, 11, 25, 15, 0, 0), requested: NewDate(2026, 11, 25),
			want: NewDate(2026, 11, 25)},
		{name: "same bank at 23:59 stays today", now: at(2026, 11, 25, 23, 59, 0), requested: NewDate(2026, 11, 25),
			want: NewDate(2026, 11, 25)},
		{name: "now in UTC: 06:00Z is 15:00 in Japan", now: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC), requested: NewDate(2026, 11, 25), interbank: true,
			want: NewDate(2026, 11, 26), code: ReasonAfterCutoff},
		{name: "Friday after the cut-off to Monday", now: at(2026, 11, 13, 15, 30, 0), requested: NewDate(2026, 11, 13), interbank: true,
			want: NewDate(2026, 11, 16), code: ReasonAfterCutoff},
		{name: "Friday after the cut-off to Tuesday over 勤労感謝の日", now: at(2026, 11, 20, 15, 30, 0), requested: NewDate(2026, 11, 20), interbank: true,
			want: NewDate(2026, 11, 24), code: ReasonAfterCutoff},
		{name: "Friday at 15:00 to Tuesday over 成人の日", now: at(2026, 1, 9, 15, 0, 0), requested: NewDate(2026, 1, 9), interbank: true,
			want: NewDate(2026, 1, 13), code: ReasonAfterCutoff},
		{name: "year end: 12/30 after the cut-off to 1/4", now: at(2026, 12, 30, 16, 0, 0), requested: NewDate(2026, 12, 30), interbank: true,
			want: NewDate(2027, 1, 4), code: ReasonAfterCutoff},
		{name: "year end: 12/30 before the cut-off", now: at(2026, 12, 30, 9, 0, 0), requested: NewDate(2026, 12, 30), interbank: true,
			want: NewDate(2026, 12, 30)},
		{name: "year end: 12/31 requested", now: at(2026, 12, 30, 9, 0, 0), requested: NewDate(2026, 12, 31),
			want: NewDate(2027, 1, 4), code: ReasonHoliday},
		{name: "same bank on a Saturday", now: at(2026, 11, 21, 10, 0, 0), requested: NewDate(2026, 11, 21),
			want: NewDate(2026, 11, 24), code: ReasonHoliday},
		{name: "interbank on a Sunday afternoon", now: at(2026, 11, 22, 16, 0, 0), requested: NewDate(2026, 11, 22), interbank: true,
			want: NewDate(2026, 11, 24), code: ReasonHoliday},
		{name: "future public holiday", now: at(2026, 11, 16, 10, 0, 0), requested: NewDate(2026, 11, 23), interbank: true,
			want: NewDate(2026, 11, 24), code: ReasonHoliday},
		{name: "future business day, after today's cut-off", now: at(2026, 11, 16, 18, 0, 0), requested: NewDate(2026, 11, 17), interbank: true,
			want: NewDate(2026, 11, 17)},
		{name: "a cut-off of 14:30, at 14:29:59", now: at(2026, 11, 25, 14, 29, 59), requested: NewDate(2026, 11, 25), interbank: true, cutoff: Clock{14, 30},
			want: NewDate(2026, 11, 25)},
		{name: "a cut-off of 14:30, at 14:30", now: at(2026, 11, 25, 14, 30, 0), requested: NewDate(2026, 11, 25), interbank: true, cutoff: Clock{14, 30},
			want: NewDate(2026, 11, 26), code: ReasonAfterCutoff},
		{name: "exactly one year ahead", now: at(2026, 11, 25, 10, 0, 0), requested: NewDate(2027, 11, 25),
			want: NewDate(2027, 11, 25)},
		{name: "more than a year ahead", now: at(2026, 11, 25, 10, 0, 0), requested: NewDate(2027, 11, 26),
			err: ErrTooFarAhead},
		{name: "yesterday", now: at(2026, 11, 25, 10, 0, 0), requested: NewDate(2026, 11, 24),
			err: ErrPastDate},
		{name: "yesterday in Japan, today in UTC", now: time.Date(2026, 11, 24, 15, 30, 0, 0, time.UTC), requested: NewDate(2026, 11, 24),
			err: ErrPastDate},
		{name: "a year beyond the data", now: at(2027, 6, 1, 10, 0, 0), requested: NewDate(2028, 1, 5),
			err: ErrNotCovered},
		{name: "after the cut-off on the last business day of the data", now: at(2027, 12, 30, 16, 0, 0), requested: NewDate(2027, 12, 30), interbank: true,
			err: ErrNotCovered},
		{name: "zero date", now: at(2026, 11, 25, 10, 0, 0), err: ErrInvalidDate},
		{name: "no such date", now: at(2026, 11, 25, 10, 0, 0), requested: Date{2026, time.November, 31}, err: ErrInvalidDate},
		{name: "zero cut-off is 15:00", now: at(2026, 11, 25, 15, 0, 0), requested: NewDate(2026, 11, 25), interbank: true, cutoff: Clock{},
			want: NewDate(2026, 11, 26), code: ReasonAfterCutoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := c.ExecutionDate(tt.now, tt.requested, tt.interbank, tt.cutoff)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ExecutionDate = %v, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || reason.Code != tt.code || reason.Date != got || reason.Requested != tt.requested {
				t.Errorf("ExecutionDate = %v, %+v; want %v, %q", got, reason, tt.want, tt.code)
			}
			if reason.Moved() != (tt.code != ReasonNone) || (reason.Ja() == "") == reason.Moved() || (reason.En() == "") == reason.Moved() {
				t.Errorf("Moved() = %v, Ja() = %q, En() = %q", reason.Moved(), reason.Ja(), reason.En())
			}
		})
	}
}

func TestExecutionDate_ReasonText(t *testing.T) {
	c := Default()
	tests := []struct {
		name      string
		now       time.Time
		requested Date
		cutoff    Clock
		ja, en    string
	}{
		{
			name: "after the cut-off", now: at(2026, 11, 25, 15, 0, 0), requested: NewDate(2026, 11, 25),
			ja: "15時以降のため、翌営業日 11月26日(木) の扱いとなります。",
			en: "As it is after 15:00, the transfer will be executed on the next business day, Thu 26 Nov.",
		},
		{
			name: "after a 14:30 cut-off", now: at(2026, 11, 25, 14, 45, 0), requested: NewDate(2026, 11, 25), cutoff: Clock{14, 30},
			ja: "14時30分以降のため、翌営業日 11月26日(木) の扱いとなります。",
			en: "As it is after 14:30, the transfer will be executed on the next business day, Thu 26 Nov.",
		},
		{
			name: "after the cut-off at the year end", now: at(2026, 12, 30, 15, 0, 0), requested: NewDate(2026, 12, 30),
			ja: "15時以降のため、翌営業日 2027年1月4日(月) の扱いとなります。",
			en: "As it is after 15:00, the transfer will be executed on the next business day, Mon 4 Jan 2027.",
		},
		{
			name: "public holiday", now: at(2026, 11, 20, 10, 0, 0), requested: NewDate(2026, 11, 23),
			ja: "11月23日(月) は勤労感謝の日で銀行休業日のため、翌営業日 11月24日(火) の扱いとなります。",
			en: "As Mon 23 Nov is a bank holiday (Labour Thanksgiving Day), the transfer will be executed on the next business day, Tue 24 Nov.",
		},
		{
			name: "weekend", now: at(2026, 11, 20, 10, 0, 0), requested: NewDate(2026, 11, 28),
			ja: "11月28日(土) は銀行休業日のため、翌営業日 11月30日(月) の扱いとなります。",
			en: "As Sat 28 Nov is a bank holiday, the transfer will be executed on the next business day, Mon 30 Nov.",
		},
		{
			name: "year end", now: at(2026, 12, 28, 10, 0, 0), requested: NewDate(2026, 12, 31),
			ja: "2026年12月31日(木) は年末年始の銀行休業日のため、翌営業日 2027年1月4日(月) の扱いとなります。",
			en: "As Thu 31 Dec 2026 is a year-end bank holiday, the transfer will be executed on the next business day, Mon 4 Jan 2027.",
		},
		{
			name: "元日 is a public holiday", now: at(2026, 12, 28, 10, 0, 0), requested: NewDate(2027, 1, 1),
			ja: "1月1日(金) は元日で銀行休業日のため、翌営業日 1月4日(月) の扱いとなります。",
			en: "As Fri 1 Jan is a bank holiday (New Year's Day), the transfer will be executed on the next business day, Mon 4 Jan.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, reason, err := c.ExecutionDate(tt.now, tt.requested, true, tt.cutoff)
			if err != nil {
				t.Fatal(err)
			}
			if got := reason.Ja(); got != tt.ja {
				t.Errorf("Ja() = %q\nwant    %q", got, tt.ja)
			}
			if got := reason.En(); got != tt.en {
				t.Errorf("En() = %q\nwant    %q", got, tt.en)
			}
		})
	}
}

func TestExecutionDate_BadCutoff(t *testing.T) {
	_, _, err := Default().ExecutionDate(at(2026, 11, 25, 10, 0, 0), NewDate(2026, 11, 25), true, Clock{25, 0})
	if err == nil || !strings.Contains(err.Error(), "cut-off 25:00") {
		t.Errorf("err = %v, want one naming the cut-off", err)
	}
}
