package calendar

import (
	"fmt"
	"time"
)

// DefaultCutoff is the time of day from which a same-day transfer to
// another bank is executed on the next business day.
var DefaultCutoff = Clock{Hour: 15}

// ReasonCode says why an execution date differs from the requested date.
type ReasonCode string

// Reason codes, stable for the API.
const (
	// ReasonNone: the transfer is executed on the requested date.
	ReasonNone ReasonCode = ""
	// ReasonHoliday: the requested date is not a business day.
	ReasonHoliday ReasonCode = "holiday"
	// ReasonAfterCutoff: a same-day transfer to another bank requested at
	// or after the cut-off.
	ReasonAfterCutoff ReasonCode = "after_cutoff"
)

// Reason is why a transfer is executed on Date rather than on Requested,
// with text for the confirmation page.
type Reason struct {
	Code      ReasonCode
	Requested Date
	Date      Date
	// Cutoff is the cut-off that applied (ReasonAfterCutoff).
	Cutoff Clock
	// Holiday is the name of the public holiday on Requested, if it is one
	// (ReasonHoliday).
	Holiday string
}

// Moved reports whether the execution date differs from the requested date.
func (r Reason) Moved() bool { return r.Code != ReasonNone }

// dates writes the execution date for the page, with its year when the
// year differs from the requested date's.
func (r Reason) dates() (requestedJa, dateJa, requestedEn, dateEn string) {
	if r.Requested.Year != r.Date.Year {
		return r.Requested.JaWithYear(), r.Date.JaWithYear(), r.Requested.EnWithYear(), r.Date.EnWithYear()
	}
	return r.Requested.Ja(), r.Date.Ja(), r.Requested.En(), r.Date.En()
}

// Ja is the Japanese text for the confirmation page, "" when not moved:
// "15時以降のため、翌営業日 11月26日(木) の扱いとなります。"
func (r Reason) Ja() string {
	reqJa, dateJa, _, _ := r.dates()
	switch r.Code {
	case ReasonAfterCutoff:
		return fmt.Sprintf("%s以降のため、翌営業日 %s の扱いとなります。", r.Cutoff.Ja(), dateJa)
	case ReasonHoliday:
		why := "銀行休業日"
		switch {
		case r.Holiday != "":
			why = r.Holiday + "で銀行休業日"
		case YearEnd(r.Requested):
			why = "年末年始の銀行休業日"
		}
		return fmt.Sprintf("%s は%sのため、翌営業日 %s の扱いとなります。", reqJa, why, dateJa)
	}
	return ""
}

// En is the English text for the confirmation page, "" when not moved:
// "As it is after 15:00, the transfer will be executed on the next business
// day, Thu 26 Nov."
func (r Reason) En() string {
	_, _, reqEn, dateEn := r.dates()
	switch r.Code {
	case ReasonAfterCutoff:
		return fmt.Sprintf("As it is after %s, the transfer will be executed on the next business day, %s.", r.Cutoff, dateEn)
	case ReasonHoliday:
		why := "a bank holiday"
		switch {
		case r.Holiday != "":
			why = "a bank holiday (" + HolidayNameEn(r.Holiday) + ")"
		case YearEnd(r.Requested):
			why = "a year-end bank holiday"
		}
		return fmt.Sprintf("As %s is %s, the transfer will be executed on the next business day, %s.", reqEn, why, dateEn)
	}
	return ""
}

// ExecutionDate returns the day on which a transfer requested at now for
// the date requested is executed, and why it differs from requested:
//
//   - requested before today (in Japan) is ErrPastDate; after the same date
//     one year from today, ErrTooFarAhead; in a year the holiday data does
//     not cover, ErrNotCovered.
//   - requested not a business day: the next business day (ReasonHoliday).
//   - interbank (to another bank), requested today and now at or after the
//     cut-off: the next business day (ReasonAfterCutoff). At 15:00:00 it is
//     already after a 15:00 cut-off. A zero cutoff means DefaultCutoff.
//   - a transfer within the bank is not subject to the cut-off: it is
//     executed on the requested day at any time of a business day, and
//     moves only when that day is not a business day.
func (c *Calendar) ExecutionDate(now time.Time, requested Date, interbank bool, cutoff Clock) (Date, Reason, error) {
	if !requested.valid() {
		return Date{}, Reason{}, fmt.Errorf("calendar: execution date %q: %w", requested, ErrInvalidDate)
	}
	if cutoff == (Clock{}) {
		cutoff = DefaultCutoff
	}
	if !cutoff.valid() {
		return Date{}, Reason{}, fmt.Errorf("calendar: cut-off %s: want a time from 00:00 to 24:00", cutoff)
	}
	today := DateOf(now)
	if requested.Before(today) {
		return Date{}, Reason{}, fmt.Errorf("calendar: execution date %s is before today %s: %w", requested, today, ErrPastDate)
	}
	if limit := NewDate(today.Year+1, today.Month, today.Day); requested.After(limit) {
		return Date{}, Reason{}, fmt.Errorf("calendar: execution date %s is after %s: %w", requested, limit, ErrTooFarAhead)
	}
	date, err := c.OnOrAfter(requested)
	if err != nil {
		return Date{}, Reason{}, err
	}
	if date != requested {
		holiday, _ := c.holidays.Name(requested)
		return date, Reason{Code: ReasonHoliday, Requested: requested, Date: date, Holiday: holiday}, nil
	}
	if interbank && requested == today && !now.Before(today.At(cutoff)) {
		next, err := c.NextBusinessDay(today)
		if err != nil {
			return Date{}, Reason{}, err
		}
		return next, Reason{Code: ReasonAfterCutoff, Requested: requested, Date: next, Cutoff: cutoff}, nil
	}
	return date, Reason{Requested: requested, Date: date}, nil
}
