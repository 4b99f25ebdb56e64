package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"kinko/internal/calendar"
)

// enforcedRows are the hours table's rows from the hours kinko enforces
// (calendar.Hours), for a bank that has not written its own
// (ServiceHours): the same hours every day.
func enforcedRows(h calendar.Hours) []hoursRow {
	from, to := "0:00", "24:00"
	if d := h.Daily; d != (calendar.Span{}) {
		from, to = clockText(d.From), clockText(d.To)
	}
	return []hoursRow{{DaysKey: "hours.weekdays", From: from, To: to}, {DaysKey: "hours.weekends", From: from, To: to}}
}

// clockText writes a time of day as the hours table does: 2:00, 15:30.
func clockText(c calendar.Clock) string { return fmt.Sprintf("%d:%02d", c.Hour, c.Minute) }

// maintenanceTexts describes, in language l, the maintenance windows in
// which the service closes (the configured ones, or the defaults).
func (h *Handler) maintenanceTexts(l lang) []string {
	ws := h.c.Hours.Maintenance
	if ws == nil {
		ws = calendar.DefaultMaintenance()
	}
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if s := h.maintenanceText(l, w); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (h *Handler) maintenanceText(l lang, w calendar.Window) string {
	t := func(key string, args ...any) string { return h.cat.text(l, key, args...) }
	switch w.Kind {
	case calendar.WindowRecurring:
		days := t("hours.maint.every_day")
		if len(w.Weekdays) > 0 {
			names := make([]string, len(w.Weekdays))
			for i, d := range w.Weekdays {
				names[i] = t("weekday." + strings.ToLower(d.String()))
			}
			weekdays := strings.Join(names, t("hours.maint.and"))
			days = t("hours.maint.every_weekday", weekdays)
			if len(w.NthWeekday) > 0 {
				nths := make([]string, len(w.NthWeekday))
				for i, n := range w.NthWeekday {
					if n < 0 {
						nths[i] = t("hours.maint.last")
					} else {
						nths[i] = t("hours.maint.nth." + strconv.Itoa(n))
					}
				}
				days = t("hours.maint.nth_weekday", strings.Join(nths, t("hours.maint.and")), weekdays)
			}
		}
		return t("hours.maint.recurring", days, clockText(w.From), clockText(w.To))
	case calendar.WindowAnnual:
		day := func(md calendar.MonthDay) string {
			return time.Date(2000, md.Month, md.Day, 0, 0, 0, 0, time.UTC).Format(t("format.month_day"))
		}
		return t("hours.maint.annual", day(w.FromDate), clockText(w.From), day(w.ToDate), clockText(w.To))
	case calendar.WindowOnce:
		return t("hours.maint.once", h.cat.dateTime(l, w.Start), h.cat.dateTime(l, w.End))
	}
	return ""
}
