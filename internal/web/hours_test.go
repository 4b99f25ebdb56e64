package web_test

import (
	"strings"
	"testing"

	"kinko/internal/calendar"
	"kinko/internal/server"
	"kinko/internal/testutil"
	"kinko/internal/web"
)

// TestHoursPageShowsTheHoursInForce: without a text of the bank's own
// (service_hours), the hours page shows the hours kinko enforces and every
// maintenance window, here the defaults, in both languages; with one, it
// shows the bank's text and still the maintenance windows.
func TestHoursPageShowsTheHoursInForce(t *testing.T) {
	defaults := testutil.NewBankWith(t, testutil.OpenSQLite(t), func(p *server.Parts) { p.Hours = calendar.Hours{} })
	for _, c := range []struct {
		lang string
		want []string
	}{
		{"ja", []string{"0:00〜24:00", "システムメンテナンス", "毎月第1・第3月曜日 2:00〜6:00", "毎年 1月1日 0:00〜1月3日 24:00"}},
		{"en", []string{"0:00 to 24:00", "The 1st and 3rd Monday of each month, 2:00 to 6:00", "Every year from 1 January 0:00 to 3 January 24:00"}},
	} {
		t.Run(c.lang, func(t *testing.T) {
			cl := defaults.Client(nil)
			setLanguage(t, defaults, cl, c.lang)
			wantText(t, get(t, cl, defaults.PortalURL+"/hours"), c.want...)
		})
	}

	t.Run("the bank's own text", func(t *testing.T) {
		b := testutil.NewBankWith(t, testutil.OpenSQLite(t), func(p *server.Parts) {
			p.ServiceHours = web.ServiceHours{Weekdays: "08:00-21:00", Weekends: "closed"}
			p.Hours = calendar.Hours{Daily: calendar.Span{From: calendar.Clock{Hour: 8}, To: calendar.Clock{Hour: 21}},
				Maintenance: []calendar.Window{{Kind: calendar.WindowRecurring, Weekdays: nil,
					From: calendar.Clock{Hour: 23, Minute: 30}, To: calendar.Clock{Hour: 23, Minute: 45}}}}
		})
		p := get(t, b.Client(nil), b.PortalURL+"/hours")
		wantText(t, p, msg(t, "ja", "hours.span", "8:00", "21:00"), msg(t, "ja", "hours.closed"), "毎日 23:30〜23:45")
		if strings.Contains(p.Text, "0:00〜24:00") {
			t.Error("the page shows the enforced 24 hours instead of the bank's text")
		}
	})
}
