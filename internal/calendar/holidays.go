package calendar

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// HolidayFileHeader is the header line of the Cabinet Office's 国民の祝日 CSV
// (https://www8.cao.go.jp/chosei/shukujitsu/syukujitsu.csv).
const HolidayFileHeader = "国民の祝日・休日月日,国民の祝日・休日名称"

// maxHolidayFile bounds what LoadHolidays reads. The Cabinet Office's file,
// every year since 1955, is about 21 KB.
const maxHolidayFile = 1 << 20

// Holiday is one Japanese public holiday.
type Holiday struct {
	Date Date
	// Name is the name in the file. Days that the file names only 休日 are
	// named 振替休日 (a substitute for a holiday on a Sunday) or 国民の休日
	// (a day between two holidays) when the file's dates show which.
	Name string
}

// Holidays is a set of Japanese public holidays for the years it covers.
// The zero Holidays covers no year.
type Holidays struct {
	days  map[Date]string
	years map[int]bool
}

// HolidayFileError is a fault in a holiday file, at a line counted from 1.
type HolidayFileError struct {
	Line int
	Msg  string
}

// Error says where the file is wrong and how.
func (e *HolidayFileError) Error() string {
	if e.Line == 0 {
		return "calendar: holiday file: " + e.Msg
	}
	return fmt.Sprintf("calendar: holiday file, line %d: %s", e.Line, e.Msg)
}

//go:embed holidays.csv
var embeddedCSV []byte

var embedded = sync.OnceValue(func() Holidays {
	h, err := LoadHolidays(bytes.NewReader(embeddedCSV))
	if err != nil {
		panic(err) // the tests load the same file
	}
	return h
})

// EmbeddedHolidays returns the holidays kept in the repository
// (holidays.csv, built into the program).
func EmbeddedHolidays() Holidays { return embedded() }

// LoadHolidays reads a holiday file in the Cabinet Office's CSV format: an
// optional header line HolidayFileHeader, then one "2026/1/1,元日" line per
// holiday, in any order. It accepts the file as downloaded (Shift_JIS, CRLF)
// as well as UTF-8 (with or without a byte order mark) and LF. A year counts
// as covered when the file has at least one holiday in it (every year has
// 元日). Errors are *HolidayFileError with the line number.
func LoadHolidays(r io.Reader) (Holidays, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxHolidayFile+1))
	if err != nil {
		return Holidays{}, fmt.Errorf("calendar: read holiday file: %w", err)
	}
	if len(raw) > maxHolidayFile {
		return Holidays{}, &HolidayFileError{Msg: fmt.Sprintf("larger than %d bytes; is it the right file?", maxHolidayFile)}
	}
	text, err := decodeHolidayFile(raw)
	if err != nil {
		return Holidays{}, err
	}

	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	h := Holidays{days: map[Date]string{}, years: map[int]bool{}}
	lineOf := map[Date]int{}
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return Holidays{}, &HolidayFileError{Line: pe.Line, Msg: pe.Err.Error()}
			}
			return Holidays{}, fmt.Errorf("calendar: holiday file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if strings.Join(rec, ",") == HolidayFileHeader {
				continue
			}
		}
		if len(rec) == 3 && rec[2] == "" {
			rec = rec[:2] // a trailing comma
		}
		if len(rec) != 2 {
			return Holidays{}, &HolidayFileError{Line: line, Msg: fmt.Sprintf("want 2 fields (date,name), got %d", len(rec))}
		}
		d, err := parseSlashDate(strings.TrimSpace(rec[0]))
		if err != nil {
			return Holidays{}, &HolidayFileError{Line: line, Msg: err.Error()}
		}
		name := strings.TrimSpace(rec[1])
		if name == "" {
			return Holidays{}, &HolidayFileError{Line: line, Msg: fmt.Sprintf("%s has no name", d)}
		}
		if prev, ok := lineOf[d]; ok {
			return Holidays{}, &HolidayFileError{Line: line, Msg: fmt.Sprintf("%s is already on line %d", d, prev)}
		}
		lineOf[d] = line
		h.days[d] = name
		h.years[d.Year] = true
	}
	if len(h.days) == 0 {
		return Holidays{}, &HolidayFileError{Msg: "no holidays in the file"}
	}
	h.nameSubstitutes()
	return h, nil
}

// decodeHolidayFile returns the file as UTF-8 text. Valid UTF-8 is taken as
// it is; anything else is decoded as Shift_JIS (Windows-31J), the encoding of
// the Cabinet Office's file.
func decodeHolidayFile(raw []byte) (string, error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if utf8.Valid(raw) {
		return string(raw), nil
	}
	b, err := japanese.ShiftJIS.NewDecoder().Bytes(raw)
	if err != nil {
		return "", &HolidayFileError{Msg: fmt.Sprintf("neither UTF-8 nor Shift_JIS: %v", err)}
	}
	if bytes.ContainsRune(b, utf8.RuneError) {
		line := 1 + bytes.Count(b[:bytes.IndexRune(b, utf8.RuneError)], []byte("\n"))
		return "", &HolidayFileError{Line: line, Msg: "bytes that are neither UTF-8 nor Shift_JIS"}
	}
	return string(b), nil
}

// parseSlashDate reads the file's "2026/1/1" (or "2026/01/01").
func parseSlashDate(s string) (Date, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return Date{}, fmt.Errorf("date %q: want YYYY/M/D", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := atoiDigits(p)
		if err != nil || (i == 0 && len(p) != 4) || (i > 0 && len(p) > 2) {
			return Date{}, fmt.Errorf("date %q: want YYYY/M/D", s)
		}
		n[i] = v
	}
	d := Date{Year: n[0], Month: time.Month(n[1]), Day: n[2]}
	if !d.valid() {
		return Date{}, fmt.Errorf("date %q: no such day", s)
	}
	return d, nil
}

// nameSubstitutes names the file's plain 休日 days after the rule of the
// Holiday Act (国民の祝日に関する法律 第3条) that made them: 振替休日 when the
// run of holidays just before it has a Sunday, else 国民の休日 when the days on
// both sides are holidays.
func (h Holidays) nameSubstitutes() {
	for d, name := range h.days {
		if name != "休日" {
			continue
		}
		for p := d.AddDays(-1); h.hasDay(p); p = p.AddDays(-1) {
			if p.Weekday() == 0 {
				h.days[d] = "振替休日"
				break
			}
		}
		if h.days[d] == "休日" && h.hasDay(d.AddDays(-1)) && h.hasDay(d.AddDays(1)) {
			h.days[d] = "国民の休日"
		}
	}
}

// hasDay reports whether d is in the file, whatever its name.
func (h Holidays) hasDay(d Date) bool {
	_, ok := h.days[d]
	return ok
}

// Name returns the name of the holiday on d, if d is one.
func (h Holidays) Name(d Date) (string, bool) {
	name, ok := h.days[d]
	return name, ok
}

// Covers reports whether the holidays of year are known.
func (h Holidays) Covers(year int) bool { return h.years[year] }

// Years returns the covered years, in order.
func (h Holidays) Years() []int { return slices.Sorted(maps.Keys(h.years)) }

// In returns the holidays of year, in date order.
func (h Holidays) In(year int) []Holiday {
	var out []Holiday
	for d, name := range h.days {
		if d.Year == year {
			out = append(out, Holiday{Date: d, Name: name})
		}
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

// englishNames are the English names of the holidays, after the Cabinet
// Office's English pages.
var englishNames = map[string]string{
	"元日":     "New Year's Day",
	"成人の日":   "Coming of Age Day",
	"建国記念の日": "National Foundation Day",
	"天皇誕生日":  "The Emperor's Birthday",
	"春分の日":   "Vernal Equinox Day",
	"昭和の日":   "Showa Day",
	"憲法記念日":  "Constitution Memorial Day",
	"みどりの日":  "Greenery Day",
	"こどもの日":  "Children's Day",
	"海の日":    "Marine Day",
	"山の日":    "Mountain Day",
	"敬老の日":   "Respect for the Aged Day",
	"秋分の日":   "Autumnal Equinox Day",
	"スポーツの日": "Sports Day",
	"体育の日":   "Health and Sports Day",
	"文化の日":   "Culture Day",
	"勤労感謝の日": "Labour Thanksgiving Day",
	"振替休日":   "Substitute Holiday",
	"国民の休日":  "Citizens' Holiday",
}

// HolidayNameEn returns the English name of a holiday named name in
// Japanese, or "Public holiday" for a name it does not know.
func HolidayNameEn(name string) string {
	if en, ok := englishNames[name]; ok {
		return en
	}
	return "Public holiday"
}
