package calendar

import (
	"errors"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func date(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestEmbeddedHolidays_KnownDates(t *testing.T) {
	h := EmbeddedHolidays()
	tests := []struct {
		date string
		name string // "" for not a public holiday
	}{
		{"2024-01-01", "元日"},
		{"2024-02-12", "振替休日"},
		{"2024-11-04", "振替休日"},
		{"2025-05-06", "振替休日"},
		{"2025-11-24", "振替休日"},
		{"2026-01-12", "成人の日"},
		{"2026-03-20", "春分の日"},
		{"2026-05-06", "振替休日"},
		{"2026-09-21", "敬老の日"},
		{"2026-09-22", "国民の休日"},
		{"2026-09-23", "秋分の日"},
		{"2026-11-23", "勤労感謝の日"},
		{"2027-03-21", "春分の日"},
		{"2027-03-22", "振替休日"},
		{"2027-09-23", "秋分の日"},
		{"2027-10-11", "スポーツの日"},
		{"2026-01-13", ""},
		{"2026-05-07", ""},
		{"2026-12-31", ""}, // a bank holiday, not a public one
		{"2026-01-02", ""},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			name, ok := h.Name(date(t, tt.date))
			if ok != (tt.name != "") || name != tt.name {
				t.Errorf("Name(%s) = %q, %v; want %q", tt.date, name, ok, tt.name)
			}
		})
	}
}

func TestEmbeddedHolidays_Covers(t *testing.T) {
	h := EmbeddedHolidays()
	if diff := cmp.Diff([]int{2024, 2025, 2026, 2027}, h.Years()); diff != "" {
		t.Errorf("Years() (-want +got):\n%s", diff)
	}
	for year, want := range map[int]bool{2023: false, 2024: true, 2027: true, 2028: false} {
		if got := h.Covers(year); got != want {
			t.Errorf("Covers(%d) = %v, want %v", year, got, want)
		}
	}
	if n := len(h.In(2026)); n != 18 {
		t.Errorf("2026 has %d holidays, want 18", n)
	}
	var zero Holidays
	if zero.Covers(2026) {
		t.Error("the zero Holidays covers 2026")
	}
}

// holidayAct computes the holidays of year (2020 and later, outside the
// Olympic years) from the Holiday Act: fixed days, the Happy Monday days, the
// equinoxes from the standard formula (valid 1980-2099), 国民の休日 (art. 3-3)
// and 振替休日 (art. 3-2).
func holidayAct(year int) []Holiday {
	days := map[Date]string{}
	fixed := []struct {
		m    time.Month
		d    int
		name string
	}{
		{1, 1, "元日"}, {2, 11, "建国記念の日"}, {2, 23, "天皇誕生日"}, {4, 29, "昭和の日"},
		{5, 3, "憲法記念日"}, {5, 4, "みどりの日"}, {5, 5, "こどもの日"}, {8, 11, "山の日"},
		{11, 3, "文化の日"}, {11, 23, "勤労感謝の日"},
	}
	for _, f := range fixed {
		days[NewDate(year, f.m, f.d)] = f.name
	}
	nthMonday := func(m time.Month, n int) Date {
		d := NewDate(year, m, 1)
		for d.Weekday() != time.Monday {
			d = d.AddDays(1)
		}
		return d.AddDays(7 * (n - 1))
	}
	days[nthMonday(time.January, 2)] = "成人の日"
	days[nthMonday(time.July, 3)] = "海の日"
	days[nthMonday(time.September, 3)] = "敬老の日"
	days[nthMonday(time.October, 2)] = "スポーツの日"
	y := float64(year - 1980)
	equinox := func(base float64) int { return int(math.Floor(base + 0.242194*y - math.Floor(y/4))) }
	days[NewDate(year, time.March, equinox(20.8431))] = "春分の日"
	days[NewDate(year, time.September, equinox(23.2488))] = "秋分の日"

	national := map[Date]bool{}
	for d := range days {
		national[d] = true
	}
	for d := NewDate(year, 1, 2); d.Year == year; d = d.AddDays(1) {
		if !national[d] && national[d.AddDays(-1)] && national[d.AddDays(1)] {
			days[d] = "国民の休日"
		}
	}
	var sundays []Date
	for d := range national {
		if d.Weekday() == time.Sunday {
			sundays = append(sundays, d)
		}
	}
	for _, d := range sundays {
		e := d.AddDays(1)
		for days[e] != "" {
			e = e.AddDays(1)
		}
		days[e] = "振替休日"
	}
	var out []Holiday
	for d, name := range days {
		out = append(out, Holiday{Date: d, Name: name})
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

// TestEmbeddedHolidays_FollowHolidayAct recomputes every year of the data
// from the Holiday Act; a typing error in holidays.csv, or a year that was
// announced otherwise, shows here.
func TestEmbeddedHolidays_FollowHolidayAct(t *testing.T) {
	h := EmbeddedHolidays()
	for _, year := range h.Years() {
		t.Run(time.Date(year, 1, 1, 0, 0, 0, 0, JST).Format("2006"), func(t *testing.T) {
			if diff := cmp.Diff(holidayAct(year), h.In(year)); diff != "" {
				t.Errorf("holidays of %d (-Holiday Act +holidays.csv):\n%s", year, diff)
			}
		})
	}
}

// TestEmbeddedHolidays_FileFormat keeps holidays.csv in the Cabinet Office's
// format, so that a converted download can replace it line for line.
func TestEmbeddedHolidays_FileFormat(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(string(embeddedCSV), "\n"), "\n")
	if lines[0] != HolidayFileHeader {
		t.Fatalf("line 1 = %q, want the header %q", lines[0], HolidayFileHeader)
	}
	re := regexp.MustCompile(`^[0-9]{4}/[1-9][0-9]?/[1-9][0-9]?,[^,\s]+$`)
	var prev Date
	for i, l := range lines[1:] {
		if !re.MatchString(l) {
			t.Errorf("line %d = %q, want YYYY/M/D,name", i+2, l)
			continue
		}
		d, _ := parseSlashDate(strings.Split(l, ",")[0])
		if !prev.Before(d) {
			t.Errorf("line %d: %s is not after %s", i+2, d, prev)
		}
		prev = d
	}
}

func TestLoadHolidays_ShiftJISCRLF(t *testing.T) {
	f, err := os.Open("testdata/syukujitsu_2025_2026_sjis_crlf.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := LoadHolidays(f)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{2025, 2026}, h.Years()); diff != "" {
		t.Errorf("Years() (-want +got):\n%s", diff)
	}
	for _, year := range []int{2025, 2026} {
		if diff := cmp.Diff(EmbeddedHolidays().In(year), h.In(year)); diff != "" {
			t.Errorf("%d (-embedded +Shift_JIS file):\n%s", year, diff)
		}
	}
	if name, _ := h.Name(NewDate(2026, 9, 22)); name != "国民の休日" {
		t.Errorf("2026-09-22 = %q, want 国民の休日", name)
	}
}

func TestLoadHolidays_Accepts(t *testing.T) {
	tests := []struct {
		name string
		file string
	}{
		{"utf-8 with header", HolidayFileHeader + "\n2026/5/3,憲法記念日\n2026/5/4,みどりの日\n2026/5/5,こどもの日\n2026/5/6,休日\n"},
		{"byte order mark and CRLF", "\ufeff" + HolidayFileHeader + "\r\n2026/5/3,憲法記念日\r\n2026/5/4,みどりの日\r\n2026/5/5,こどもの日\r\n2026/5/6,休日\r\n"},
		{"no header, zero-padded, unsorted, blank lines", "2026/05/06,休日\n\n2026/05/05,こどもの日\n2026/05/04,みどりの日\n2026/05/03,憲法記念日\n\n"},
		{"trailing comma, no final newline", "2026/5/3,憲法記念日,\n2026/5/4,みどりの日\n2026/5/5,こどもの日\n2026/5/6,休日"},
	}
	want := []Holiday{
		{NewDate(2026, 5, 3), "憲法記念日"},
		{NewDate(2026, 5, 4), "みどりの日"},
		{NewDate(2026, 5, 5), "こどもの日"},
		{NewDate(2026, 5, 6), "振替休日"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := LoadHolidays(strings.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, h.In(2026)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadHolidays_Errors(t *testing.T) {
	hdr := HolidayFileHeader + "\r\n"
	tests := []struct {
		name string
		file string
		line int
		msg  string
	}{
		{"empty", "", 0, "no holidays"},
		{"header only", hdr, 0, "no holidays"},
		{"no such day", hdr + "2026/1/1,元日\r\n2026/2/30,休日\r\n", 3, `date "2026/2/30": no such day`},
		{"dashes", hdr + "2026-01-01,元日\r\n", 2, `date "2026-01-01": want YYYY/M/D`},
		{"two-digit year", hdr + "26/1/1,元日\r\n", 2, "want YYYY/M/D"},
		{"no name", hdr + "2026/1/1,元日\r\n2026/1/12,\r\n", 3, "2026-01-12 has no name"},
		{"one field", hdr + "2026/1/1\r\n", 2, "want 2 fields (date,name), got 1"},
		{"three fields", hdr + "2026/1/1,元日,x\r\n", 2, "got 3"},
		{"duplicate", hdr + "2026/1/1,元日\r\n2026/1/12,成人の日\r\n2026/1/1,元日\r\n", 4, "2026-01-01 is already on line 2"},
		{"other header", "date,name\n2026/1/1,元日\n", 1, `date "date": want YYYY/M/D`},
		{"bad quote", hdr + "2026/1/1,元日\r\n2026/1/12,\"成人の日\r\n", 3, "quote"},
		{"not text", "2026/1/1,\x80\xff\xfe\n", 1, "neither UTF-8 nor Shift_JIS"},
		{"too large", strings.Repeat("x", maxHolidayFile+1), 0, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadHolidays(strings.NewReader(tt.file))
			var fe *HolidayFileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *HolidayFileError", err)
			}
			if fe.Line != tt.line || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("err = line %d %q, want line %d containing %q", fe.Line, fe.Msg, tt.line, tt.msg)
			}
			if tt.line > 0 && !strings.Contains(err.Error(), "line ") {
				t.Errorf("Error() = %q does not give the line", err)
			}
		})
	}
}

func TestLoadHolidays_ReadError(t *testing.T) {
	_, err := LoadHolidays(errReader{})
	if !errors.Is(err, errBroken) {
		t.Errorf("err = %v, want it to wrap the reader's error", err)
	}
}

var errBroken = errors.New("broken")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

func TestHolidayNameEn(t *testing.T) {
	for ja, want := range map[string]string{
		"勤労感謝の日":  "Labour Thanksgiving Day",
		"振替休日":    "Substitute Holiday",
		"即位礼正殿の儀": "Public holiday",
	} {
		if got := HolidayNameEn(ja); got != want {
			t.Errorf("HolidayNameEn(%q) = %q, want %q", ja, got, want)
		}
	}
}

// TestCoverage: the bank is told which years of holidays it lacks, from
// the day a transfer may be dated in a year the data does not cover, and
// that it is urgent once today's own year is missing.
func TestCoverage(t *testing.T) {
	h, err := LoadHolidays(strings.NewReader("2026/1/1,元日\n2027/1/1,元日\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := New(h)
	tests := []struct {
		today   string
		missing []int // nil: covered
		urgent  bool
	}{
		{"2026-01-01", nil, false},
		{"2026-12-24", nil, false},
		// A transfer may be dated 2027-12-26; the business day after it
		// may fall in 2028.
		{"2026-12-26", []int{2028}, false},
		{"2027-06-01", []int{2028}, false},
		{"2028-01-04", []int{2028, 2029}, true},
	}
	for _, tt := range tests {
		t.Run(tt.today, func(t *testing.T) {
			err := c.Coverage(date(t, tt.today))
			if tt.missing == nil {
				if err != nil {
					t.Fatalf("Coverage: %v, want nil", err)
				}
				return
			}
			var ce *CoverageError
			if !errors.As(err, &ce) || !errors.Is(err, ErrNotCovered) {
				t.Fatalf("Coverage: %v, want a *CoverageError that is ErrNotCovered", err)
			}
			if d := cmp.Diff(tt.missing, ce.Missing); d != "" {
				t.Errorf("missing years (-want +got):\n%s", d)
			}
			if ce.Urgent() != tt.urgent {
				t.Errorf("Urgent() = %v, want %v", ce.Urgent(), tt.urgent)
			}
			if !strings.Contains(err.Error(), "holidays_file") {
				t.Errorf("error %q does not say what to do", err)
			}
		})
	}
}
