package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Hours are the service hours: the daily span in which the service is open,
// less maintenance windows. The zero Hours are DefaultHours: an absent Daily
// is 24 hours, and a nil Maintenance is DefaultMaintenance (an empty, non-nil
// Maintenance is none). In JSON (docs/calendar.md):
//
//	{"daily": "00:00-24:00",
//	 "maintenance": [
//	   {"weekday": "Mon", "nth_weekday": [1, 3], "from": "02:00", "to": "06:00"},
//	   {"from_date": "01-01", "to_date": "01-03"}]}
type Hours struct {
	Daily       Span
	Maintenance []Window
}

// DefaultMaintenance are the maintenance windows of DefaultHours: the 1st
// and 3rd Monday of each month 02:00-06:00, and 1 January 00:00 to
// 3 January 24:00.
func DefaultMaintenance() []Window {
	return []Window{
		{Kind: WindowRecurring, Weekdays: []time.Weekday{time.Monday}, NthWeekday: []int{1, 3}, From: Clock{Hour: 2}, To: Clock{Hour: 6}},
		{Kind: WindowAnnual, FromDate: MonthDay{time.January, 1}, ToDate: MonthDay{time.January, 3}, To: Clock{Hour: 24}},
	}
}

// DefaultHours are 24 hours a day except DefaultMaintenance.
func DefaultHours() Hours {
	return Hours{Daily: Span{To: Clock{Hour: 24}}, Maintenance: DefaultMaintenance()}
}

// Span is a daily span of time "HH:MM-HH:MM". A span whose end is not after
// its start runs past midnight ("06:00-02:00" is open until 02:00 the next
// day). The zero Span is all day, "00:00-24:00".
type Span struct {
	From Clock
	To   Clock
}

// ParseSpan reads a span written "08:00-21:00".
func ParseSpan(s string) (Span, error) {
	sp, err := parseSpan(s)
	if err != nil {
		return Span{}, fmt.Errorf("calendar: %w", err)
	}
	return sp, nil
}

// parseSpan is ParseSpan with errors that leave the prefix to the caller.
func parseSpan(s string) (Span, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Span{}, fmt.Errorf("span %q: want HH:MM-HH:MM", s)
	}
	f, err := parseClock(strings.TrimSpace(from))
	if err != nil {
		return Span{}, fmt.Errorf("span %q: %w", s, err)
	}
	t, err := parseClock(strings.TrimSpace(to))
	if err != nil {
		return Span{}, fmt.Errorf("span %q: %w", s, err)
	}
	sp := Span{From: f, To: t}
	if err := sp.validate(); err != nil {
		return Span{}, fmt.Errorf("span %q: %w", s, err)
	}
	return sp, nil
}

func (s Span) validate() error {
	switch {
	case s == Span{}:
		return nil
	case !s.From.valid() || !s.To.valid():
		return errors.New("times must be from 00:00 to 24:00")
	case s.From.Hour == 24:
		return errors.New("a span cannot start at 24:00")
	case s.From == s.To:
		return errors.New("a span must not be empty; for all day write 00:00-24:00")
	}
	return nil
}

// allDay reports whether the span is the whole day.
func (s Span) allDay() bool { return s == Span{} || s == Span{To: Clock{Hour: 24}} }

// String writes the span as "08:00-21:00".
func (s Span) String() string {
	if s == (Span{}) {
		s.To = Clock{Hour: 24}
	}
	return s.From.String() + "-" + s.To.String()
}

// MarshalText writes the span as "08:00-21:00".
func (s Span) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a span written "08:00-21:00".
func (s *Span) UnmarshalText(b []byte) error {
	v, err := ParseSpan(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MonthDay is a day of every year, written "01-03". 29 February is not
// accepted, as most years lack it.
type MonthDay struct {
	Month time.Month
	Day   int
}

// ParseMonthDay reads a day of the year written "MM-DD".
func ParseMonthDay(s string) (MonthDay, error) {
	md, err := parseMonthDay(s)
	if err != nil {
		return MonthDay{}, fmt.Errorf("calendar: %w", err)
	}
	return md, nil
}

// parseMonthDay is ParseMonthDay with errors that leave the prefix to the
// caller.
func parseMonthDay(s string) (MonthDay, error) {
	m, d, ok := strings.Cut(s, "-")
	if !ok || len(m) != 2 || len(d) != 2 {
		return MonthDay{}, fmt.Errorf("day %q: want MM-DD", s)
	}
	mm, err1 := atoiDigits(m)
	dd, err2 := atoiDigits(d)
	md := MonthDay{Month: time.Month(mm), Day: dd}
	if err1 != nil || err2 != nil || !md.valid() {
		return MonthDay{}, fmt.Errorf("day %q: want MM-DD, a day that every year has", s)
	}
	return md, nil
}

func (md MonthDay) valid() bool {
	return md.Month >= time.January && md.Month <= time.December && md.Day >= 1 &&
		NewDate(2001, md.Month, md.Day) == Date{Year: 2001, Month: md.Month, Day: md.Day}
}

// String writes the day as "01-03".
func (md MonthDay) String() string { return fmt.Sprintf("%02d-%02d", int(md.Month), md.Day) }

// in returns the day in year.
func (md MonthDay) in(year int) Date { return Date{Year: year, Month: md.Month, Day: md.Day} }

// WindowKind is the kind of a maintenance window.
type WindowKind string

// Window kinds.
const (
	// WindowRecurring recurs from From to To on every day, or on the
	// Weekdays, optionally only the NthWeekday of them in the month.
	WindowRecurring WindowKind = "recurring"
	// WindowAnnual recurs every year from FromDate at From to ToDate at To.
	WindowAnnual WindowKind = "annual"
	// WindowOnce is one period from Start to End.
	WindowOnce WindowKind = "once"
)

// Window is a period in which the service is closed for maintenance.
type Window struct {
	Kind WindowKind
	// Weekdays (WindowRecurring) are the days on which the window starts;
	// empty is every day.
	Weekdays []time.Weekday
	// NthWeekday (WindowRecurring) limits the window to the n-th of those
	// weekdays in the month, 1 to 5, or -1 for the last; empty is all.
	NthWeekday []int
	// FromDate and ToDate (WindowAnnual) are the first and last day; a
	// ToDate before FromDate runs over the year end.
	FromDate MonthDay
	ToDate   MonthDay
	// From and To (WindowRecurring, WindowAnnual) are the times of day at
	// which the window starts and ends. For WindowRecurring a To not after
	// From ends on the next day; 24:00 is the end of the day.
	From Clock
	To   Clock
	// Start and End (WindowOnce) are the instants the window starts and ends.
	Start time.Time
	End   time.Time
	// Note is the bank's own remark; kinko does not read it.
	Note string
}

// Validate reports what is wrong with the hours, if anything.
func (h Hours) Validate() error {
	if err := h.Daily.validate(); err != nil {
		return fmt.Errorf("calendar: service hours: daily %q: %w", h.Daily, err)
	}
	for i, w := range h.Maintenance {
		if err := w.validate(); err != nil {
			return fmt.Errorf("calendar: service hours: maintenance[%d]: %w", i, err)
		}
	}
	return nil
}

func (w Window) validate() error {
	switch w.Kind {
	case WindowRecurring:
		for _, n := range w.NthWeekday {
			if n != -1 && (n < 1 || n > 5) {
				return fmt.Errorf("nth_weekday %d: want 1 to 5, or -1 for the last", n)
			}
		}
		if len(w.NthWeekday) > 0 && len(w.Weekdays) == 0 {
			return errors.New("nth_weekday needs a weekday")
		}
		for _, wd := range w.Weekdays {
			if wd < time.Sunday || wd > time.Saturday {
				return fmt.Errorf("weekday %d: want Sunday to Saturday", wd)
			}
		}
		if !w.From.valid() || !w.To.valid() || w.From.Hour == 24 {
			return fmt.Errorf("from %s, to %s: want times from 00:00 to 24:00", w.From, w.To)
		}
		if w.From == w.To {
			return fmt.Errorf("from and to are both %s; a window cannot be empty", w.From)
		}
	case WindowAnnual:
		if !w.FromDate.valid() || !w.ToDate.valid() {
			return fmt.Errorf("from_date %s, to_date %s: want MM-DD, days that every year has", w.FromDate, w.ToDate)
		}
		if !w.From.valid() || !w.To.valid() || w.From.Hour == 24 {
			return fmt.Errorf("from %s, to %s: want times from 00:00 to 24:00", w.From, w.To)
		}
		if w.FromDate == w.ToDate && w.From.minutes() >= w.To.minutes() {
			return fmt.Errorf("from_date and to_date are both %s: to (%s) must be after from (%s)", w.FromDate, w.To, w.From)
		}
	case WindowOnce:
		if w.Start.IsZero() || w.End.IsZero() || !w.End.After(w.Start) {
			return fmt.Errorf("start %s, end %s: want an end after the start", w.Start.In(JST).Format(onceLayout), w.End.In(JST).Format(onceLayout))
		}
	default:
		return fmt.Errorf("kind %q: want %s, %s or %s", w.Kind, WindowRecurring, WindowAnnual, WindowOnce)
	}
	return nil
}

// matches reports whether a recurring window starts on d.
func (w Window) matches(d Date) bool {
	if len(w.Weekdays) > 0 && !slices.Contains(w.Weekdays, d.Weekday()) {
		return false
	}
	if len(w.NthWeekday) == 0 {
		return true
	}
	if slices.Contains(w.NthWeekday, (d.Day-1)/7+1) {
		return true
	}
	return slices.Contains(w.NthWeekday, -1) && d.AddDays(7).Month != d.Month
}

// containing returns the end of the window's occurrence that contains t,
// if one does.
func (w Window) containing(t time.Time) (time.Time, bool) {
	in := func(start, end time.Time) bool { return !t.Before(start) && t.Before(end) }
	today := DateOf(t)
	switch w.Kind {
	case WindowRecurring:
		for _, d := range []Date{today.AddDays(-1), today} {
			if !w.matches(d) {
				continue
			}
			start, end := d.At(w.From), d.At(w.To)
			if w.To.minutes() <= w.From.minutes() {
				end = d.AddDays(1).At(w.To)
			}
			if in(start, end) {
				return end, true
			}
		}
	case WindowAnnual:
		for _, y := range []int{today.Year - 1, today.Year} {
			start := w.FromDate.in(y).At(w.From)
			end := w.ToDate.in(y).At(w.To)
			if !end.After(start) {
				end = w.ToDate.in(y + 1).At(w.To)
			}
			if in(start, end) {
				return end, true
			}
		}
	case WindowOnce:
		if in(w.Start, w.End) {
			return w.End, true
		}
	}
	return time.Time{}, false
}

// closures returns the periods in which the service is closed: outside the
// daily span, and the maintenance windows.
func (h Hours) closures() []Window {
	ws := h.Maintenance
	if ws == nil {
		ws = DefaultMaintenance()
	}
	if h.Daily.allDay() {
		return ws
	}
	outside := Window{Kind: WindowRecurring, From: h.Daily.To, To: h.Daily.From}
	if outside.From.Hour == 24 {
		outside.From = Clock{} // closes at midnight: 00:00 to From
	}
	return append([]Window{outside}, ws...)
}

// reopenSearch bounds the search for the end of a closure.
const reopenSearch = 1000

// Open reports whether the service is open at now and, when it is not, the
// instant at which it reopens (in Japan time), for Retry-After and the
// サービス時間外 page. Windows that touch or overlap are followed through:
// closed from 22:00 Sunday to 24:00 and from 00:00 to 06:00 Monday reopens
// at 06:00 Monday. If the service does not reopen within the search (hours
// that are closed all the time), reopens is the zero time.
func (h Hours) Open(now time.Time) (bool, time.Time) {
	ws := h.closures()
	t := now.In(JST)
	for step := 0; step < reopenSearch; step++ {
		var end time.Time
		closed := false
		for _, w := range ws {
			if e, ok := w.containing(t); ok && e.After(end) {
				end, closed = e, true
			}
		}
		if !closed {
			if step == 0 {
				return true, time.Time{}
			}
			return false, t
		}
		t = end
	}
	return false, time.Time{}
}

// ResumeMessage returns the text of the サービス時間外 page saying when a
// service closed at now reopens: "6時に再開します。" on the same day,
// "1月4日(月) 0時に再開します。" on another.
func ResumeMessage(now, reopens time.Time) (ja, en string) {
	if reopens.IsZero() {
		return "再開の時刻は未定です。", "The time the service resumes is not yet known."
	}
	day := DateOf(reopens)
	c := clockOf(reopens)
	if day == DateOf(now) {
		return fmt.Sprintf("%sに再開します。", c.Ja()), fmt.Sprintf("The service resumes at %s.", c)
	}
	return fmt.Sprintf("%s %sに再開します。", day.Ja(), c.Ja()), fmt.Sprintf("The service resumes on %s at %s.", day.En(), c)
}

// onceLayout is how a WindowOnce's start and end are written, in Japan time.
const onceLayout = "2006-01-02T15:04"

// hoursJSON and windowJSON are the JSON shapes of Hours and Window.
type hoursJSON struct {
	Daily       string            `json:"daily,omitempty"`
	Maintenance []json.RawMessage `json:"maintenance"`
}

type windowJSON struct {
	Weekday    json.RawMessage `json:"weekday,omitempty"`
	NthWeekday []int           `json:"nth_weekday,omitempty"`
	FromDate   string          `json:"from_date,omitempty"`
	ToDate     string          `json:"to_date,omitempty"`
	Start      string          `json:"start,omitempty"`
	End        string          `json:"end,omitempty"`
	From       string          `json:"from,omitempty"`
	To         string          `json:"to,omitempty"`
	Note       string          `json:"note,omitempty"`
}

// decodeStrict decodes b into v, rejecting unknown keys.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the object")
	}
	return nil
}

// UnmarshalJSON reads hours in the shape documented on Hours, rejecting
// unknown keys and invalid windows with an error that names the window.
func (h *Hours) UnmarshalJSON(b []byte) error {
	var v hoursJSON
	if err := decodeStrict(b, &v); err != nil {
		return fmt.Errorf("calendar: service hours: %w", err)
	}
	var out Hours
	if v.Daily != "" {
		sp, err := parseSpan(v.Daily)
		if err != nil {
			return fmt.Errorf("calendar: service hours: daily: %w", err)
		}
		out.Daily = sp
	}
	if v.Maintenance != nil {
		out.Maintenance = make([]Window, 0, len(v.Maintenance))
	}
	for i, raw := range v.Maintenance {
		var w Window
		if err := w.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("calendar: service hours: maintenance[%d]: %w", i, err)
		}
		out.Maintenance = append(out.Maintenance, w)
	}
	*h = out
	return nil
}

// MarshalJSON writes the hours in force (defaults filled in) in the shape
// that UnmarshalJSON reads.
func (h Hours) MarshalJSON() ([]byte, error) {
	ws := h.Maintenance
	if ws == nil {
		ws = DefaultMaintenance()
	}
	v := hoursJSON{Daily: h.Daily.String(), Maintenance: make([]json.RawMessage, 0, len(ws))}
	for _, w := range ws {
		b, err := w.MarshalJSON()
		if err != nil {
			return nil, err
		}
		v.Maintenance = append(v.Maintenance, b)
	}
	return json.Marshal(v)
}

var weekdayNames = map[string]time.Weekday{}

func init() {
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		weekdayNames[strings.ToLower(wd.String())] = wd
		weekdayNames[strings.ToLower(wd.String()[:3])] = wd
	}
}

// parseWeekdays reads "Mon" or ["Sat", "Sun"].
func parseWeekdays(raw json.RawMessage) ([]time.Weekday, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var names []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		names = []string{one}
	} else if err := json.Unmarshal(raw, &names); err != nil || len(names) == 0 {
		return nil, fmt.Errorf("weekday %s: want a day such as \"Mon\", or a list such as [\"Sat\", \"Sun\"]", raw)
	}
	var out []time.Weekday
	for _, n := range names {
		wd, ok := weekdayNames[strings.ToLower(strings.TrimSpace(n))]
		if !ok {
			return nil, fmt.Errorf("weekday %q: want Mon, Tue, Wed, Thu, Fri, Sat or Sun", n)
		}
		out = append(out, wd)
	}
	return out, nil
}

// clockOr reads a time of day, or returns def for "".
func clockOr(s string, def Clock, key string) (Clock, error) {
	if s == "" {
		return def, nil
	}
	c, err := parseClock(s)
	if err != nil {
		return Clock{}, fmt.Errorf("%s: %w", key, err)
	}
	return c, nil
}

// UnmarshalJSON reads one window. Its kind follows from its keys:
// "from_date"/"to_date" make it annual, "start"/"end" once, and otherwise it
// recurs ("weekday", "nth_weekday", "from", "to").
func (w *Window) UnmarshalJSON(b []byte) error {
	var v windowJSON
	if err := decodeStrict(b, &v); err != nil {
		return err
	}
	annual := v.FromDate != "" || v.ToDate != ""
	once := v.Start != "" || v.End != ""
	recurring := len(v.Weekday) > 0 || len(v.NthWeekday) > 0
	var out Window
	out.Note = v.Note
	var err error
	switch {
	case annual && (once || recurring), once && recurring, once && (v.From != "" || v.To != ""):
		return errors.New(`a window has either "weekday"/"nth_weekday" with "from" and "to", or "from_date" and "to_date" (with "from" and "to" if not whole days), or "start" and "end"`)
	case annual:
		out.Kind = WindowAnnual
		if out.FromDate, err = parseMonthDay(v.FromDate); err != nil {
			return fmt.Errorf("from_date: %w", err)
		}
		if out.ToDate, err = parseMonthDay(v.ToDate); err != nil {
			return fmt.Errorf("to_date: %w", err)
		}
		if out.From, err = clockOr(v.From, Clock{}, "from"); err != nil {
			return err
		}
		if out.To, err = clockOr(v.To, Clock{Hour: 24}, "to"); err != nil {
			return err
		}
	case once:
		out.Kind = WindowOnce
		if out.Start, err = time.ParseInLocation(onceLayout, v.Start, JST); err != nil {
			return fmt.Errorf("start %q: want YYYY-MM-DDTHH:MM in Japan time", v.Start)
		}
		if out.End, err = time.ParseInLocation(onceLayout, v.End, JST); err != nil {
			return fmt.Errorf("end %q: want YYYY-MM-DDTHH:MM in Japan time", v.End)
		}
	default:
		out.Kind = WindowRecurring
		if v.From == "" || v.To == "" {
			return errors.New(`a recurring window needs "from" and "to" (HH:MM)`)
		}
		if out.Weekdays, err = parseWeekdays(v.Weekday); err != nil {
			return err
		}
		out.NthWeekday = v.NthWeekday
		if out.From, err = clockOr(v.From, Clock{}, "from"); err != nil {
			return err
		}
		if out.To, err = clockOr(v.To, Clock{}, "to"); err != nil {
			return err
		}
	}
	if err := out.validate(); err != nil {
		return err
	}
	*w = out
	return nil
}

// MarshalJSON writes the window in the shape that UnmarshalJSON reads.
func (w Window) MarshalJSON() ([]byte, error) {
	v := windowJSON{Note: w.Note}
	switch w.Kind {
	case WindowRecurring:
		switch len(w.Weekdays) {
		case 0:
		case 1:
			v.Weekday, _ = json.Marshal(w.Weekdays[0].String()[:3])
		default:
			names := make([]string, len(w.Weekdays))
			for i, wd := range w.Weekdays {
				names[i] = wd.String()[:3]
			}
			v.Weekday, _ = json.Marshal(names)
		}
		v.NthWeekday = w.NthWeekday
		v.From, v.To = w.From.String(), w.To.String()
	case WindowAnnual:
		v.FromDate, v.ToDate = w.FromDate.String(), w.ToDate.String()
		if w.From != (Clock{}) || w.To != (Clock{Hour: 24}) {
			v.From, v.To = w.From.String(), w.To.String()
		}
	case WindowOnce:
		v.Start, v.End = w.Start.In(JST).Format(onceLayout), w.End.In(JST).Format(onceLayout)
	default:
		return nil, fmt.Errorf("calendar: window kind %q: want %s, %s or %s", w.Kind, WindowRecurring, WindowAnnual, WindowOnce)
	}
	return json.Marshal(v)
}
