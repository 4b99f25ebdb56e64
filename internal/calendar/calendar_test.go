package calendar

import (
	"errors"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: "2026-11-25", want: Date{2026, time.November, 25}},
		{in: "2028-02-29", want: Date{2028, time.February, 29}},
		{in: "2027-02-29", wantErr: true},
		{in: "2026-13-01", wantErr: true},
		{in: "2026/11/25", wantErr: true},
		{in: "2026-1-5", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidDate) {
					t.Errorf("ParseDate(%q) = %v, %v; want ErrInvalidDate", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestDate(t *testing.T) {
	d := NewDate(2026, time.November, 26)
	if got := d.Ja(); got != "11月26日(木)" {
		t.Errorf("Ja() = %q", got)
	}
	if got := d.En(); got != "Thu 26 Nov" {
		t.Errorf("En() = %q", got)
	}
	if got := NewDate(2027, 1, 4).JaWithYear(); got != "2027年1月4日(月)" {
		t.Errorf("JaWithYear() = %q", got)
	}
	if got := NewDate(2027, 1, 4).EnWithYear(); got != "Mon 4 Jan 2027" {
		t.Errorf("EnWithYear() = %q", got)
	}
	if got := NewDate(2026, 12, 32); got != (Date{2027, time.January, 1}) {
		t.Errorf("NewDate(2026, 12, 32) = %v", got)
	}
	if got := NewDate(2026, 3, 1).AddDays(-1); got != (Date{2026, time.February, 28}) {
		t.Errorf("AddDays(-1) = %v", got)
	}
	// 15:00 UTC on 31 December is already 1 January in Japan.
	if got := DateOf(time.Date(2026, 12, 31, 15, 0, 0, 0, time.UTC)); got != (Date{2027, time.January, 1}) {
		t.Errorf("DateOf = %v, want 2027-01-01", got)
	}
	if got := DateOf(time.Date(2026, 12, 31, 14, 59, 59, 0, time.UTC)); got != (Date{2026, time.December, 31}) {
		t.Errorf("DateOf = %v, want 2026-12-31", got)
	}
	if !NewDate(2026, 12, 31).Before(NewDate(2027, 1, 1)) || NewDate(2027, 1, 1).Before(NewDate(2026, 12, 31)) ||
		!NewDate(2026, 2, 1).After(NewDate(2026, 1, 31)) || NewDate(2026, 2, 1).Compare(NewDate(2026, 2, 1)) != 0 {
		t.Error("Before/After/Compare disagree with the calendar")
	}
	var back Date
	if err := back.UnmarshalText([]byte("2026-11-26")); err != nil || back != d {
		t.Errorf("UnmarshalText = %v, %v", back, err)
	}
	// The zero Date, no date, is empty text both ways.
	if b, err := (Date{}).MarshalText(); err != nil || len(b) != 0 || (Date{}).String() != "" {
		t.Errorf("zero Date marshals to %q, %v; want empty", b, err)
	}
	if err := back.UnmarshalText(nil); err != nil || !back.IsZero() {
		t.Errorf("UnmarshalText of empty text = %v, %v; want the zero Date", back, err)
	}
	for _, bad := range []string{"2026-02-30", "2026/01/01", "26-01-01", "2026-1-1"} {
		if _, err := ParseDate(bad); !errors.Is(err, ErrInvalidDate) {
			t.Errorf("ParseDate(%q) = %v, want ErrInvalidDate", bad, err)
		}
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in   string
		want Clock
		err  bool
	}{
		{in: "15:00", want: Clock{15, 0}},
		{in: "9:30", want: Clock{9, 30}},
		{in: "00:00", want: Clock{0, 0}},
		{in: "24:00", want: Clock{24, 0}},
		{in: "24:01", err: true},
		{in: "23:60", err: true},
		{in: "15", err: true},
		{in: "15:0", err: true},
		{in: "+1:00", err: true},
		{in: "-1:00", err: true},
		{in: " 1:00", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseClock(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("ParseClock(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
	if got := (Clock{15, 0}).Ja(); got != "15時" {
		t.Errorf("Ja() = %q", got)
	}
	if got := (Clock{14, 30}).Ja(); got != "14時30分" {
		t.Errorf("Ja() = %q", got)
	}
}

func TestIsBusinessDay(t *testing.T) {
	c := Default()
	tests := []struct {
		date string
		want bool
	}{
		{"2026-11-25", true},  // Wednesday
		{"2026-11-28", false}, // Saturday
		{"2026-11-29", false}, // Sunday
		{"2026-11-23", false}, // 勤労感謝の日, Monday
		{"2026-01-12", false}, // 成人の日
		{"2026-05-06", false}, // 振替休日
		{"2026-09-22", false}, // 国民の休日
		{"2025-11-24", false}, // 振替休日
		{"2026-12-29", true},
		{"2026-12-30", true},  // the last business day of 2026
		{"2026-12-31", false}, // year end, a Thursday
		{"2027-01-01", false},
		{"2027-01-02", false},
		{"2027-01-03", false},
		{"2027-01-04", true},  // Monday
		{"2026-01-02", false}, // year end, a Friday
		{"2026-01-05", true},  // Monday, the first business day of 2026
		{"2024-12-30", true},  // Monday
		{"2024-12-31", false}, // Tuesday
		{"2023-06-01", false}, // not covered: never vouched for
		{"2028-06-01", false}, // not covered
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			if got := c.IsBusinessDay(date(t, tt.date)); got != tt.want {
				t.Errorf("IsBusinessDay(%s) = %v, want %v", tt.date, got, tt.want)
			}
		})
	}
}

func TestYearEnd(t *testing.T) {
	for d, want := range map[Date]bool{
		NewDate(2026, 12, 30): false,
		NewDate(2026, 12, 31): true,
		NewDate(2027, 1, 1):   true,
		NewDate(2027, 1, 3):   true,
		NewDate(2027, 1, 4):   false,
	} {
		if got := YearEnd(d); got != want {
			t.Errorf("YearEnd(%s) = %v, want %v", d, got, want)
		}
	}
}

func TestNextBusinessDay(t *testing.T) {
	c := Default()
	tests := []struct {
		name, from, want string
		err              error
	}{
		{"weekday", "2026-11-25", "2026-11-26", nil},
		{"Friday to Monday", "2026-11-13", "2026-11-16", nil},
		{"Friday to Tuesday over 勤労感謝の日", "2026-11-20", "2026-11-24", nil},
		{"Friday to Tuesday over 成人の日", "2026-01-09", "2026-01-13", nil},
		{"Golden Week with 振替休日", "2026-05-01", "2026-05-07", nil},
		{"silver week with 国民の休日", "2026-09-18", "2026-09-24", nil},
		{"year end 12/30 to 1/4", "2026-12-30", "2027-01-04", nil},
		{"from a holiday", "2026-12-31", "2027-01-04", nil},
		{"year end 12/30 (Mon) to 1/6 (Mon) over a weekend", "2024-12-30", "2025-01-06", nil},
		{"into a year beyond the data", "2027-12-30", "", ErrNotCovered},
		{"zero date", "", "", ErrInvalidDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var from Date
			if tt.from != "" {
				from = date(t, tt.from)
			}
			got, err := c.NextBusinessDay(from)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("NextBusinessDay(%s) = %v, %v; want %v", tt.from, got, err, tt.err)
				}
				return
			}
			if err != nil || got != date(t, tt.want) {
				t.Errorf("NextBusinessDay(%s) = %v, %v; want %s", tt.from, got, err, tt.want)
			}
		})
	}
}

func TestAddBusinessDays(t *testing.T) {
	c := Default()
	tests := []struct {
		name, from string
		n          int
		want       string
		err        error
	}{
		{"zero keeps the day", "2026-11-28", 0, "2026-11-28", nil},
		{"three forward", "2026-11-19", 3, "2026-11-25", nil}, // Fri 20, Tue 24, Wed 25
		{"one from a Saturday", "2026-11-21", 1, "2026-11-24", nil},
		{"across the year end", "2026-12-28", 3, "2027-01-04", nil},
		{"one back", "2026-11-24", -1, "2026-11-20", nil},
		{"back across the year end", "2027-01-04", -1, "2026-12-30", nil},
		{"previous of 2024's first business day", "2024-01-04", -1, "", ErrNotCovered},
		{"forward out of the data", "2027-12-01", 30, "", ErrNotCovered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AddBusinessDays(date(t, tt.from), tt.n)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("AddBusinessDays(%s, %d) = %v, %v; want %v", tt.from, tt.n, got, err, tt.err)
				}
				return
			}
			if err != nil || got != date(t, tt.want) {
				t.Errorf("AddBusinessDays(%s, %d) = %v, %v; want %s", tt.from, tt.n, got, err, tt.want)
			}
		})
	}
	if got, err := c.PreviousBusinessDay(NewDate(2026, 5, 7)); err != nil || got != NewDate(2026, 5, 1) {
		t.Errorf("PreviousBusinessDay(2026-05-07) = %v, %v; want 2026-05-01", got, err)
	}
}

func TestOnOrAfter(t *testing.T) {
	c := Default()
	for from, want := range map[Date]Date{
		NewDate(2026, 11, 25): NewDate(2026, 11, 25),
		NewDate(2026, 11, 21): NewDate(2026, 11, 24),
		NewDate(2027, 1, 1):   NewDate(2027, 1, 4),
	} {
		if got, err := c.OnOrAfter(from); err != nil || got != want {
			t.Errorf("OnOrAfter(%s) = %v, %v; want %s", from, got, err, want)
		}
	}
	if _, err := c.OnOrAfter(NewDate(2028, 1, 4)); !errors.Is(err, ErrNotCovered) {
		t.Errorf("OnOrAfter(2028-01-04) err = %v, want ErrNotCovered", err)
	}
}

func TestCalendar_HolidayName(t *testing.T) {
	c := Default()
	if name, ok := c.HolidayName(NewDate(2026, 11, 23)); !ok || name != "勤労感謝の日" {
		t.Errorf("HolidayName(2026-11-23) = %q, %v", name, ok)
	}
	if name, ok := c.HolidayName(NewDate(2026, 12, 31)); ok {
		t.Errorf("HolidayName(2026-12-31) = %q, want none (a bank holiday only)", name)
	}
	if !c.Covers(2026) || c.Covers(2028) {
		t.Error("Covers disagrees with the data")
	}
}
