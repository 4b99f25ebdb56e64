package calendar

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// JST is Japan Standard Time, UTC+9. Japan has no daylight saving time, so
// a fixed zone is exact and needs no tzdata on the host.
var JST = time.FixedZone("JST", 9*60*60)

// Date is a day of the civil calendar in Japan, without a time of day. The
// zero Date is not a valid day: it means "no date" (an open bound, "today"
// where a day may be left out); IsZero reports it. Dates compare with == and
// can be map keys.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date y-m-d, normalized as time.Date does
// (NewDate(2026, 12, 32) is 2027-01-01).
func NewDate(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 0, 0, 0, 0, JST))
}

// DateOf returns the day in Japan on which t falls.
func DateOf(t time.Time) Date {
	y, m, d := t.In(JST).Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate reads a date written "2006-01-02". It rejects days that do not
// exist, such as 2026-02-30.
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, JST)
	if err != nil {
		return Date{}, fmt.Errorf("calendar: date %q: want YYYY-MM-DD: %w", s, ErrInvalidDate)
	}
	return DateOf(t), nil
}

// String writes the date as "2006-01-02", and the zero Date as "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText writes the date as "2006-01-02", and the zero Date (no date,
// such as an open bound) as empty text.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a date written "2006-01-02"; empty text is the zero
// Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// valid reports whether d is a day that exists.
func (d Date) valid() bool { return !d.IsZero() && NewDate(d.Year, d.Month, d.Day) == d }

// Time returns the start of the day, 00:00 in Japan.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, JST) }

// At returns the instant of the day at time of day c (24:00 is the start of
// the next day).
func (d Date) At(c Clock) time.Time {
	return time.Date(d.Year, d.Month, d.Day, c.Hour, c.Minute, 0, 0, JST)
}

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.Time().Weekday() }

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return NewDate(d.Year, d.Month, d.Day+n) }

// Compare returns -1, 0 or +1 as d is before, the same as or after e.
func (d Date) Compare(e Date) int {
	return cmp.Or(cmp.Compare(d.Year, e.Year), cmp.Compare(d.Month, e.Month), cmp.Compare(d.Day, e.Day))
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

var weekdayJa = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// Ja writes the date for a Japanese page: "11月26日(木)".
func (d Date) Ja() string {
	return fmt.Sprintf("%d月%d日(%s)", int(d.Month), d.Day, weekdayJa[d.Weekday()])
}

// JaWithYear writes the date for a Japanese page with its year:
// "2027年1月4日(月)".
func (d Date) JaWithYear() string { return fmt.Sprintf("%d年%s", d.Year, d.Ja()) }

// En writes the date for an English page: "Thu 26 Nov".
func (d Date) En() string {
	return fmt.Sprintf("%s %d %s", d.Weekday().String()[:3], d.Day, d.Month.String()[:3])
}

// EnWithYear writes the date for an English page with its year:
// "Mon 4 Jan 2027".
func (d Date) EnWithYear() string { return fmt.Sprintf("%s %d", d.En(), d.Year) }

// Clock is a time of day in Japan, to the minute, from 00:00 to 24:00 (24:00
// is only meaningful as the end of a span). The zero Clock is 00:00.
type Clock struct {
	Hour   int
	Minute int
}

// ParseClock reads a time of day written "15:00" (or "9:30"), from 00:00 to
// 24:00.
func ParseClock(s string) (Clock, error) {
	c, err := parseClock(s)
	if err != nil {
		return Clock{}, fmt.Errorf("calendar: %w", err)
	}
	return c, nil
}

// parseClock is ParseClock with errors that leave the prefix to the caller.
func parseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(m) != 2 || len(h) < 1 || len(h) > 2 {
		return Clock{}, fmt.Errorf("time %q: want HH:MM", s)
	}
	hour, err1 := atoiDigits(h)
	minute, err2 := atoiDigits(m)
	if err1 != nil || err2 != nil || !(Clock{Hour: hour, Minute: minute}).valid() {
		return Clock{}, fmt.Errorf("time %q: want HH:MM from 00:00 to 24:00", s)
	}
	return Clock{Hour: hour, Minute: minute}, nil
}

// atoiDigits reads a decimal number of ASCII digits only (no sign, no
// spaces).
func atoiDigits(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return strconv.Atoi(s)
}

// String writes the time of day as "15:00".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// MarshalText writes the time of day as "15:00".
func (c Clock) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a time of day written "15:00".
func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Ja writes the time of day for a Japanese page: "15時", "15時30分".
func (c Clock) Ja() string {
	if c.Minute == 0 {
		return fmt.Sprintf("%d時", c.Hour)
	}
	return fmt.Sprintf("%d時%d分", c.Hour, c.Minute)
}

// minutes returns the minutes since 00:00.
func (c Clock) minutes() int { return c.Hour*60 + c.Minute }

// valid reports whether c is between 00:00 and 24:00.
func (c Clock) valid() bool {
	return c.Hour >= 0 && c.Minute >= 0 && c.Minute < 60 && (c.Hour < 24 || c.Hour == 24 && c.Minute == 0)
}

// clockOf returns the time of day of t in Japan, to the minute.
func clockOf(t time.Time) Clock {
	t = t.In(JST)
	return Clock{Hour: t.Hour(), Minute: t.Minute()}
}
