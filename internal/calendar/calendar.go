// Package calendar is the bank's calendar: which days are business days
// (weekdays that are not Japanese public holidays nor 31 December to
// 3 January), on which day a transfer is executed (the cut-off for transfers
// to other banks), and when the service is open (service hours and
// maintenance windows). All of it is in Japan time, UTC+9, without tzdata.
// The public holidays are data (holidays.csv, replaceable at run time), and
// a year beyond the data is reported, never taken as a year without
// holidays. The package only answers questions about dates: it never reads
// the clock itself (callers pass now), and it depends on no other kinko
// package.
package calendar

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors.
var (
	// ErrInvalidDate is a date that is malformed, zero or does not exist.
	ErrInvalidDate = errors.New("calendar: invalid date")
	// ErrNotCovered is a date in a year whose public holidays are not in
	// the holiday data: the data must be updated (docs/calendar.md).
	ErrNotCovered = errors.New("calendar: the holiday data does not cover the year")
	// ErrPastDate is a requested execution date before today.
	ErrPastDate = errors.New("calendar: the date is in the past")
	// ErrTooFarAhead is a requested execution date more than a year ahead.
	ErrTooFarAhead = errors.New("calendar: the date is too far ahead")
)

// Calendar answers business-day questions from a set of public holidays.
// It is safe for concurrent use.
type Calendar struct {
	holidays Holidays
}

// New returns a calendar with the given public holidays.
func New(h Holidays) *Calendar { return &Calendar{holidays: h} }

// Default returns a calendar with the holidays kept in the repository.
func Default() *Calendar { return New(EmbeddedHolidays()) }

// Holidays returns the calendar's public holidays.
func (c *Calendar) Holidays() Holidays { return c.holidays }

// Covers reports whether the calendar knows the public holidays of year.
func (c *Calendar) Covers(year int) bool { return c.holidays.Covers(year) }

// HolidayName returns the name of the public holiday on d, if d is one.
// The bank's year-end days (31 December, 2 and 3 January) are not public
// holidays; YearEnd reports them.
func (c *Calendar) HolidayName(d Date) (string, bool) { return c.holidays.Name(d) }

// YearEnd reports whether d is in the banks' year-end holidays, 31 December
// to 3 January.
func YearEnd(d Date) bool {
	return d.Month == time.December && d.Day == 31 || d.Month == time.January && d.Day <= 3
}

// IsBusinessDay reports whether d is a business day: Monday to Friday, not
// a public holiday and not 31 December to 3 January. A day in a year that
// the holiday data does not cover is never reported as a business day, as
// the calendar cannot vouch for it; Covers tells the two apart, and the
// functions that move between days return ErrNotCovered instead.
func (c *Calendar) IsBusinessDay(d Date) bool {
	if !c.holidays.Covers(d.Year) {
		return false
	}
	return c.open(d)
}

// open is IsBusinessDay for a covered year.
func (c *Calendar) open(d Date) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	if YearEnd(d) {
		return false
	}
	_, holiday := c.holidays.Name(d)
	return !holiday
}

// NextBusinessDay returns the first business day after d.
func (c *Calendar) NextBusinessDay(d Date) (Date, error) { return c.AddBusinessDays(d, 1) }

// PreviousBusinessDay returns the last business day before d.
func (c *Calendar) PreviousBusinessDay(d Date) (Date, error) { return c.AddBusinessDays(d, -1) }

// OnOrAfter returns d if it is a business day, else the first business day
// after it.
func (c *Calendar) OnOrAfter(d Date) (Date, error) {
	if !d.valid() {
		return Date{}, fmt.Errorf("calendar: %q: %w", d, ErrInvalidDate)
	}
	if !c.Covers(d.Year) {
		return Date{}, fmt.Errorf("calendar: %s: %w", d, ErrNotCovered)
	}
	if c.open(d) {
		return d, nil
	}
	return c.NextBusinessDay(d)
}

// AddBusinessDays returns the n-th business day after d (before d, for
// negative n; d itself for 0). d need not be a business day: one business
// day after Saturday is the following Monday, if that is one. It returns
// ErrNotCovered when it would have to pass through a year that the holiday
// data does not cover.
func (c *Calendar) AddBusinessDays(d Date, n int) (Date, error) {
	if !d.valid() {
		return Date{}, fmt.Errorf("calendar: %q: %w", d, ErrInvalidDate)
	}
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if !c.holidays.Covers(d.Year) {
			return Date{}, fmt.Errorf("calendar: looking for a business day in %d: %w", d.Year, ErrNotCovered)
		}
		if c.open(d) {
			n--
		}
	}
	return d, nil
}

// CoverageError is holiday data that does not cover a year the bank needs
// now: the year of today, and each year up to the latest execution date a
// transfer may be requested for (a year ahead) and the business day after
// it.
type CoverageError struct {
	Today   Date
	Missing []int // the years needed and not covered, in order
}

// Error says which years are missing and what to do.
func (e *CoverageError) Error() string {
	years := make([]string, len(e.Missing))
	for i, y := range e.Missing {
		years[i] = fmt.Sprint(y)
	}
	return fmt.Sprintf("calendar: on %s the holiday data does not cover %s: load the Cabinet Office's file of Japan's holidays with holidays_file (docs/calendar.md)",
		e.Today, strings.Join(years, ", "))
}

// Unwrap makes a CoverageError an ErrNotCovered.
func (e *CoverageError) Unwrap() error { return ErrNotCovered }

// Urgent reports whether today's own year is missing, so that no business
// day can be found at all; otherwise only transfers dated in the missing
// years are refused.
func (e *CoverageError) Urgent() bool { return len(e.Missing) > 0 && e.Missing[0] == e.Today.Year }

// coverageAhead is how far past the year ahead a date may have to be
// searched for a business day: past the closing of 31 December to
// 3 January and a weekend.
const coverageAhead = 7

// Coverage returns a *CoverageError when the holiday data lacks a year that
// the bank needs on today, nil when it has them all. A server checks it at
// start-up, so that the bank loads next year's holidays in time.
func (c *Calendar) Coverage(today Date) error {
	last := NewDate(today.Year+1, today.Month, today.Day).AddDays(coverageAhead).Year
	var missing []int
	for y := today.Year; y <= last; y++ {
		if !c.holidays.Covers(y) {
			missing = append(missing, y)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &CoverageError{Today: today, Missing: missing}
}
