package calendar

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func mustHours(t *testing.T, s string) Hours {
	t.Helper()
	var h Hours
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		t.Fatalf("unmarshal %s: %v", s, err)
	}
	return h
}

type openCase struct {
	name    string
	now     time.Time
	open    bool
	reopens time.Time
}

func checkOpen(t *testing.T, h Hours, tests []openCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open, reopens := h.Open(tt.now)
			if open != tt.open || !reopens.Equal(tt.reopens) {
				t.Errorf("Open(%s) = %v, %s; want %v, %s", tt.now, open, reopens, tt.open, tt.reopens)
			}
			if !reopens.IsZero() && reopens.Location() != JST {
				t.Errorf("reopens in %s, want JST", reopens.Location())
			}
		})
	}
}

func TestDefaultHours_Open(t *testing.T) {
	var none time.Time
	// January 2026: Mondays 5, 12, 19, 26. March 2026: 2, 9, 16, 23, 30.
	checkOpen(t, DefaultHours(), []openCase{
		{"1st Monday 01:59:59", at(2026, 1, 5, 1, 59, 59), true, none},
		{"1st Monday 02:00", at(2026, 1, 5, 2, 0, 0), false, at(2026, 1, 5, 6, 0, 0)},
		{"1st Monday 05:59:59", at(2026, 1, 5, 5, 59, 59), false, at(2026, 1, 5, 6, 0, 0)},
		{"1st Monday 06:00", at(2026, 1, 5, 6, 0, 0), true, none},
		{"2nd Monday 03:00 (成人の日: the service is open)", at(2026, 1, 12, 3, 0, 0), true, none},
		{"3rd Monday 02:00", at(2026, 1, 19, 2, 0, 0), false, at(2026, 1, 19, 6, 0, 0)},
		{"3rd Monday 06:00", at(2026, 1, 19, 6, 0, 0), true, none},
		{"4th Monday 03:00", at(2026, 1, 26, 3, 0, 0), true, none},
		{"5th Monday 03:00", at(2026, 3, 30, 3, 0, 0), true, none},
		{"1st Monday in March", at(2026, 3, 2, 3, 0, 0), false, at(2026, 3, 2, 6, 0, 0)},
		{"1st Tuesday 03:00", at(2026, 3, 3, 3, 0, 0), true, none},
		{"1st Monday on the 1st of the month", at(2026, 6, 1, 2, 0, 0), false, at(2026, 6, 1, 6, 0, 0)},
		{"Sunday before, 23:59:59", at(2026, 5, 31, 23, 59, 59), true, none},
		{"in UTC: 17:30Z Sunday is 02:30 Monday in Japan", time.Date(2026, 5, 31, 17, 30, 0, 0, time.UTC), false, at(2026, 6, 1, 6, 0, 0)},
		{"31 December 23:59:59", at(2026, 12, 31, 23, 59, 59), true, none},
		{"1 January 00:00", at(2027, 1, 1, 0, 0, 0), false, at(2027, 1, 4, 0, 0, 0)},
		{"2 January noon", at(2027, 1, 2, 12, 0, 0), false, at(2027, 1, 4, 0, 0, 0)},
		{"3 January 23:59:59", at(2027, 1, 3, 23, 59, 59), false, at(2027, 1, 4, 0, 0, 0)},
		{"4 January 00:00 (a 1st Monday)", at(2027, 1, 4, 0, 0, 0), true, none},
		{"4 January 02:00 (a 1st Monday)", at(2027, 1, 4, 2, 0, 0), false, at(2027, 1, 4, 6, 0, 0)},
		{"1 January on a 1st Monday", at(2029, 1, 1, 3, 0, 0), false, at(2029, 1, 4, 0, 0, 0)},
		{"a year beyond the holiday data", at(2031, 1, 6, 2, 30, 0), false, at(2031, 1, 6, 6, 0, 0)},
	})
}

func TestHours_ZeroValueIsDefault(t *testing.T) {
	for _, now := range []time.Time{at(2026, 1, 5, 2, 0, 0), at(2026, 1, 5, 6, 0, 0), at(2027, 1, 2, 0, 0, 0), at(2026, 7, 1, 12, 0, 0)} {
		open, reopens := Hours{}.Open(now)
		wantOpen, wantReopens := DefaultHours().Open(now)
		if open != wantOpen || !reopens.Equal(wantReopens) {
			t.Errorf("Hours{}.Open(%s) = %v, %s; DefaultHours: %v, %s", now, open, reopens, wantOpen, wantReopens)
		}
	}
}

func TestHours_ReopensAcrossMidnightAndMonthEnd(t *testing.T) {
	var none time.Time
	t.Run("daily 08:00-21:00", func(t *testing.T) {
		checkOpen(t, mustHours(t, `{"daily": "08:00-21:00"}`), []openCase{
			{"07:59:59", at(2026, 7, 1, 7, 59, 59), false, at(2026, 7, 1, 8, 0, 0)},
			{"08:00", at(2026, 7, 1, 8, 0, 0), true, none},
			{"20:59:59", at(2026, 7, 1, 20, 59, 59), true, none},
			{"21:00", at(2026, 7, 1, 21, 0, 0), false, at(2026, 7, 2, 8, 0, 0)},
			{"month end", at(2026, 1, 31, 22, 0, 0), false, at(2026, 2, 1, 8, 0, 0)},
			{"February end", at(2026, 2, 28, 23, 0, 0), false, at(2026, 3, 1, 8, 0, 0)},
			{"year end into 1-3 January", at(2026, 12, 31, 21, 0, 0), false, at(2027, 1, 4, 8, 0, 0)},
			{"1st Monday: night, maintenance, reopening", at(2026, 6, 1, 1, 0, 0), false, at(2026, 6, 1, 8, 0, 0)},
		})
	})
	t.Run("daily over midnight 06:00-02:00", func(t *testing.T) {
		checkOpen(t, mustHours(t, `{"daily": "06:00-02:00", "maintenance": []}`), []openCase{
			{"01:59", at(2026, 7, 1, 1, 59, 0), true, none},
			{"02:00", at(2026, 7, 1, 2, 0, 0), false, at(2026, 7, 1, 6, 0, 0)},
			{"23:00", at(2026, 7, 1, 23, 0, 0), true, none},
			{"1 January is open with no maintenance", at(2027, 1, 1, 12, 0, 0), true, none},
		})
	})
	t.Run("windows that touch at midnight", func(t *testing.T) {
		h := mustHours(t, `{"maintenance": [
			{"weekday": "Sun", "from": "22:00", "to": "24:00"},
			{"weekday": "Mon", "from": "00:00", "to": "06:00"}]}`)
		checkOpen(t, h, []openCase{
			{"Sunday 21:59", at(2026, 5, 31, 21, 59, 0), true, none},
			{"Sunday 23:00", at(2026, 5, 31, 23, 0, 0), false, at(2026, 6, 1, 6, 0, 0)},
			{"Monday 05:00", at(2026, 6, 1, 5, 0, 0), false, at(2026, 6, 1, 6, 0, 0)},
			{"Monday 06:00", at(2026, 6, 1, 6, 0, 0), true, none},
			{"1 January is open: maintenance replaced", at(2027, 1, 1, 12, 0, 0), true, none},
		})
	})
	t.Run("a window over midnight and the month end", func(t *testing.T) {
		h := mustHours(t, `{"maintenance": [{"weekday": "Sat", "nth_weekday": [-1], "from": "22:00", "to": "04:00"}]}`)
		// 2026-10-31 is the last Saturday of October.
		checkOpen(t, h, []openCase{
			{"last Saturday 21:59", at(2026, 10, 31, 21, 59, 0), true, none},
			{"last Saturday 22:00", at(2026, 10, 31, 22, 0, 0), false, at(2026, 11, 1, 4, 0, 0)},
			{"Sunday 1st 03:59:59", at(2026, 11, 1, 3, 59, 59), false, at(2026, 11, 1, 4, 0, 0)},
			{"Sunday 1st 04:00", at(2026, 11, 1, 4, 0, 0), true, none},
			{"not the last Saturday", at(2026, 10, 24, 23, 0, 0), true, none},
		})
	})
	t.Run("every day, annual with times, once", func(t *testing.T) {
		h := mustHours(t, `{"maintenance": [
			{"from": "23:50", "to": "00:10", "note": "日次処理"},
			{"from_date": "12-31", "to_date": "01-01", "from": "21:00", "to": "09:00"},
			{"start": "2026-05-02T22:00", "end": "2026-05-03T06:00"}]}`)
		checkOpen(t, h, []openCase{
			{"23:49", at(2026, 7, 1, 23, 49, 0), true, none},
			{"23:55", at(2026, 7, 1, 23, 55, 0), false, at(2026, 7, 2, 0, 10, 0)},
			{"00:05 on the 1st", at(2026, 8, 1, 0, 5, 0), false, at(2026, 8, 1, 0, 10, 0)},
			{"31 December 20:59", at(2026, 12, 31, 20, 59, 0), true, none},
			{"31 December 21:00", at(2026, 12, 31, 21, 0, 0), false, at(2027, 1, 1, 9, 0, 0)},
			{"1 January 08:59", at(2027, 1, 1, 8, 59, 0), false, at(2027, 1, 1, 9, 0, 0)},
			{"2 January", at(2027, 1, 2, 12, 0, 0), true, none},
			{"once: 2 May 22:00", at(2026, 5, 2, 22, 0, 0), false, at(2026, 5, 3, 6, 0, 0)},
			{"once: 3 May 06:00", at(2026, 5, 3, 6, 0, 0), true, none},
			{"once: a year later", at(2027, 5, 2, 23, 0, 0), true, none},
		})
	})
	t.Run("closed all the time", func(t *testing.T) {
		h := mustHours(t, `{"maintenance": [{"from": "00:00", "to": "24:00"}]}`)
		checkOpen(t, h, []openCase{{"any time", at(2026, 7, 1, 12, 0, 0), false, none}})
	})
}

func TestHours_JSON(t *testing.T) {
	documented := `{
	  "daily": "00:00-24:00",
	  "maintenance": [
	    {"weekday": "Mon", "nth_weekday": [1, 3], "from": "02:00", "to": "06:00"},
	    {"from_date": "01-01", "to_date": "01-03"}
	  ]
	}`
	if diff := cmp.Diff(DefaultHours(), mustHours(t, documented)); diff != "" {
		t.Errorf("documented example (-DefaultHours +parsed):\n%s", diff)
	}

	b, err := json.Marshal(Hours{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"daily":"00:00-24:00","maintenance":[{"weekday":"Mon","nth_weekday":[1,3],"from":"02:00","to":"06:00"},{"from_date":"01-01","to_date":"01-03"}]}`
	if string(b) != want {
		t.Errorf("Marshal(Hours{}) = %s\nwant %s", b, want)
	}

	custom := `{"daily":"08:00-21:00","maintenance":[` +
		`{"weekday":["Sat","Sun"],"from":"22:00","to":"04:00","note":"週末"},` +
		`{"from":"23:50","to":"00:10"},` +
		`{"from_date":"12-31","to_date":"01-01","from":"21:00","to":"09:00"},` +
		`{"start":"2026-05-02T22:00","end":"2026-05-03T06:00"}]}`
	h := mustHours(t, custom)
	b, err = json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != custom {
		t.Errorf("round trip:\n got %s\nwant %s", b, custom)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}

	if h := mustHours(t, `{"maintenance": []}`); h.Maintenance == nil || len(h.Maintenance) != 0 {
		t.Errorf(`"maintenance": [] = %#v, want empty and not nil (no maintenance)`, h.Maintenance)
	}
	if h := mustHours(t, `{"daily": "07:00-23:00"}`); h.Maintenance != nil {
		t.Errorf("absent maintenance = %#v, want nil (the default)", h.Maintenance)
	}

	// Inside a config struct, as the server's config file will hold it.
	var cfg struct {
		Hours Hours `json:"hours"`
	}
	if err := json.Unmarshal([]byte(`{"hours": {"maintenance": [{"weekday": "mon", "from": "2:00", "to": "3:00"}]}}`), &cfg); err != nil {
		t.Fatal(err)
	}
	wantW := []Window{{Kind: WindowRecurring, Weekdays: []time.Weekday{time.Monday}, From: Clock{2, 0}, To: Clock{3, 0}}}
	if diff := cmp.Diff(wantW, cfg.Hours.Maintenance); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestHours_JSONErrors(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"unknown key", `{"daily": "00:00-24:00", "maintenence": []}`, `unknown field "maintenence"`},
		{"unknown window key", `{"maintenance": [{"weekday": "Mon", "form": "02:00", "to": "06:00"}]}`, `maintenance[0]: json: unknown field "form"`},
		{"weekday", `{"maintenance": [{"weekday": "Mox", "from": "02:00", "to": "06:00"}]}`, `maintenance[0]: weekday "Mox": want Mon, Tue`},
		{"weekday number", `{"maintenance": [{"weekday": 1, "from": "02:00", "to": "06:00"}]}`, `weekday 1: want a day such as "Mon"`},
		{"empty window object", `{"maintenance": [{}, {"weekday": "Mon", "nth_weekday": [6], "from": "02:00", "to": "06:00"}]}`, `maintenance[0]: a recurring window needs "from" and "to"`},
		{"nth 6", `{"maintenance": [{"weekday": "Mon", "nth_weekday": [6], "from": "02:00", "to": "06:00"}]}`, "nth_weekday 6: want 1 to 5, or -1"},
		{"nth without weekday", `{"maintenance": [{"nth_weekday": [1], "from": "02:00", "to": "06:00"}]}`, "nth_weekday needs a weekday"},
		{"bad time", `{"maintenance": [{"weekday": "Mon", "from": "25:00", "to": "06:00"}]}`, `maintenance[0]: from: time "25:00": want HH:MM from 00:00 to 24:00`},
		{"empty window", `{"maintenance": [{"weekday": "Mon", "from": "02:00", "to": "02:00"}]}`, "a window cannot be empty"},
		{"from 24:00", `{"maintenance": [{"weekday": "Mon", "from": "24:00", "to": "02:00"}]}`, "want times from 00:00 to 24:00"},
		{"mixed kinds", `{"maintenance": [{"weekday": "Mon", "from_date": "01-01", "to_date": "01-03"}]}`, "a window has either"},
		{"once with times", `{"maintenance": [{"start": "2026-05-02T22:00", "end": "2026-05-03T06:00", "from": "01:00"}]}`, "a window has either"},
		{"29 February", `{"maintenance": [{"from_date": "02-29", "to_date": "03-01"}]}`, `from_date: day "02-29"`},
		{"no to_date", `{"maintenance": [{"from_date": "12-31"}]}`, `to_date: day "": want MM-DD`},
		{"annual one day backwards", `{"maintenance": [{"from_date": "12-31", "to_date": "12-31", "from": "22:00", "to": "06:00"}]}`, "to (06:00) must be after from (22:00)"},
		{"once backwards", `{"maintenance": [{"start": "2026-05-03T06:00", "end": "2026-05-02T22:00"}]}`, "want an end after the start"},
		{"once format", `{"maintenance": [{"start": "2026-05-02 22:00", "end": "2026-05-03T06:00"}]}`, "want YYYY-MM-DDTHH:MM in Japan time"},
		{"daily empty", `{"daily": "08:00-08:00"}`, "must not be empty"},
		{"daily format", `{"daily": "8-21"}`, `calendar: service hours: daily: span "8-21": time "8": want HH:MM`},
		{"not an object", `["00:00-24:00"]`, "calendar: service hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Hours
			err := json.Unmarshal([]byte(tt.in), &h)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Unmarshal(%s) = %v, want an error containing %q", tt.in, err, tt.msg)
			}
		})
	}
}

func TestHours_Validate(t *testing.T) {
	if err := DefaultHours().Validate(); err != nil {
		t.Errorf("DefaultHours().Validate() = %v", err)
	}
	if err := (Hours{}).Validate(); err != nil {
		t.Errorf("Hours{}.Validate() = %v", err)
	}
	bad := []Hours{
		{Daily: Span{From: Clock{8, 0}, To: Clock{8, 0}}},
		{Maintenance: []Window{{}}},
		{Maintenance: []Window{{Kind: WindowRecurring, Weekdays: []time.Weekday{7}, From: Clock{1, 0}, To: Clock{2, 0}}}},
		{Maintenance: []Window{{Kind: WindowOnce, Start: at(2026, 5, 3, 0, 0, 0)}}},
		{Maintenance: []Window{{Kind: WindowAnnual, FromDate: MonthDay{2, 30}, ToDate: MonthDay{3, 1}}}},
	}
	for i, h := range bad {
		if err := h.Validate(); err == nil {
			t.Errorf("bad[%d].Validate() = nil, want an error", i)
		}
	}
}

func TestResumeMessage(t *testing.T) {
	tests := []struct {
		name           string
		now, reopens   time.Time
		wantJa, wantEn string
	}{
		{"same day", at(2026, 1, 5, 3, 0, 0), at(2026, 1, 5, 6, 0, 0), "6時に再開します。", "The service resumes at 06:00."},
		{"same day with minutes", at(2026, 7, 1, 23, 55, 0), at(2026, 7, 1, 23, 59, 0), "23時59分に再開します。", "The service resumes at 23:59."},
		{"after midnight", at(2026, 7, 1, 23, 55, 0), at(2026, 7, 2, 0, 10, 0), "7月2日(木) 0時10分に再開します。", "The service resumes on Thu 2 Jul at 00:10."},
		{"after the new year", at(2027, 1, 1, 0, 0, 0), at(2027, 1, 4, 0, 0, 0), "1月4日(月) 0時に再開します。", "The service resumes on Mon 4 Jan at 00:00."},
		{"unknown", at(2026, 7, 1, 12, 0, 0), time.Time{}, "再開の時刻は未定です。", "The time the service resumes is not yet known."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ja, en := ResumeMessage(tt.now, tt.reopens)
			if ja != tt.wantJa || en != tt.wantEn {
				t.Errorf("ResumeMessage = %q, %q; want %q, %q", ja, en, tt.wantJa, tt.wantEn)
			}
		})
	}
}

// TestHours_DocExamples parses the examples of docs/calendar.md, so that the
// documentation cannot drift from what the server accepts.
func TestHours_DocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/calendar.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) != 2 {
		t.Fatalf("found %d json examples, want 2", len(blocks))
	}
	var got []Hours
	for _, b := range blocks {
		var cfg struct {
			Hours Hours `json:"operating_hours"`
		}
		if err := decodeStrict([]byte("{"+string(b[1])+"}"), &cfg); err != nil {
			t.Fatalf("example %s: %v", b[1], err)
		}
		got = append(got, cfg.Hours)
	}
	if diff := cmp.Diff(DefaultHours(), got[0], cmpopts.IgnoreFields(Window{}, "Note")); diff != "" {
		t.Errorf("the default, written out (-DefaultHours +doc):\n%s", diff)
	}
	checkOpen(t, got[1], []openCase{
		{"06:59", at(2026, 7, 1, 6, 59, 0), false, at(2026, 7, 1, 7, 0, 0)},
		{"23:00 to 07:00 over the nightly batch", at(2026, 7, 1, 23, 0, 0), false, at(2026, 7, 2, 7, 0, 0)},
		{"last Sunday 01:00", at(2026, 5, 31, 6, 0, 0), false, at(2026, 5, 31, 7, 0, 0)},
		{"31 December 21:00", at(2026, 12, 31, 21, 0, 0), false, at(2027, 1, 4, 7, 0, 0)},
		{"system change", at(2026, 5, 2, 22, 30, 0), false, at(2026, 5, 3, 7, 0, 0)},
		{"an ordinary noon", at(2026, 7, 1, 12, 0, 0), true, time.Time{}},
	})
}
