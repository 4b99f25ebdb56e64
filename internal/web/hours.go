package web

import "strings"

// ServiceHours are the service hours shown on the service hours page, each
// "HH:MM-HH:MM" or "closed" (config.ServiceHours checks them).
type ServiceHours struct {
	Weekdays string // Monday to Friday, except holidays
	Weekends string // Saturdays, Sundays and holidays
}

// DefaultServiceHours fill the empty field of a ServiceHours with one
// field set.
var DefaultServiceHours = ServiceHours{Weekdays: "08:00-21:00", Weekends: "09:00-17:00"}

func (s ServiceHours) withDefaults() ServiceHours {
	if s.Weekdays == "" {
		s.Weekdays = DefaultServiceHours.Weekdays
	}
	if s.Weekends == "" {
		s.Weekends = DefaultServiceHours.Weekends
	}
	return s
}

// hoursRow is one line of the service hours table.
type hoursRow struct {
	DaysKey  string // catalogue key of the days
	Closed   bool
	From, To string
}

func (s ServiceHours) rows() []hoursRow {
	row := func(key, span string) hoursRow {
		from, to, ok := strings.Cut(span, "-")
		if span == "closed" || !ok {
			return hoursRow{DaysKey: key, Closed: true}
		}
		return hoursRow{DaysKey: key, From: strings.TrimPrefix(from, "0"), To: strings.TrimPrefix(to, "0")}
	}
	return []hoursRow{row("hours.weekdays", s.Weekdays), row("hours.weekends", s.Weekends)}
}
