package banking

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"kinko/internal/calendar"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// Statement encodings.
const (
	EncodingUTF8     = "utf-8"
	EncodingShiftJIS = "shift_jis"
	// EncodingUTF8BOM is UTF-8 after a byte order mark, which Excel needs
	// to read a CSV file as UTF-8 (without it, Excel in Japan reads
	// Shift_JIS and garbles the text).
	EncodingUTF8BOM = "utf-8-bom"
)

// Encodings are the statement encodings, in the order the pages offer them.
var Encodings = []string{EncodingUTF8, EncodingUTF8BOM, EncodingShiftJIS}

// StatementCharset is the charset of the Content-Type of a statement in
// enc.
func StatementCharset(enc string) string {
	if enc == EncodingShiftJIS {
		return "Shift_JIS"
	}
	return "utf-8"
}

// StatementFileName names a downloaded statement, the same from the pages
// and the API: statement-<branch>-<number>-<from>-<to>.csv, the dates as
// YYYYMMDD, an open start "all", an open end today; "-excel" before
// ".csv" for UTF-8 with a byte order mark, "-sjis" for Shift_JIS.
func StatementFileName(a Account, from, to, today calendar.Date, enc string) string {
	day := func(d calendar.Date) string { return fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day) }
	f := "all"
	if !from.IsZero() {
		f = day(from)
	}
	if to.IsZero() {
		to = today
	}
	suffix := ""
	switch enc {
	case EncodingUTF8BOM:
		suffix = "-excel"
	case EncodingShiftJIS:
		suffix = "-sjis"
	}
	return fmt.Sprintf("statement-%s-%s-%s-%s%s.csv", a.BranchCode, a.Number, f, day(to), suffix)
}

// StatementHeader is the header row of a statement CSV.
var StatementHeader = []string{"日付", "摘要", "お支払金額", "お預り金額", "差引残高"}

// StatementCSV writes postings as a statement (入出金明細) in CSV: a header
// row, then one row per posting with its booking date (2006/01/02), its
// description, the amount paid out or taken in (the other column empty) and
// the balance after it, amounts as plain integers of yen; lines end in CRLF.
// enc is EncodingUTF8 (no byte order mark), EncodingUTF8BOM (for Excel)
// or EncodingShiftJIS, which
// spreadsheet software in Japan opens as it is; a character that Shift_JIS
// lacks is written as "?". A description that a spreadsheet would take for
// a formula (starting with = + - @) is written after a single quote.
func StatementCSV(w io.Writer, postings []Posting, enc string) error {
	var tw *transform.Writer
	cell := cellText
	switch enc {
	case EncodingUTF8:
	case EncodingUTF8BOM:
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return fmt.Errorf("banking: statement: %w", err)
		}
	case EncodingShiftJIS:
		tw = transform.NewWriter(w, japanese.ShiftJIS.NewEncoder())
		w = tw
		cell = func(s string) string { return shiftJISSafe(cellText(s)) }
	default:
		return fmt.Errorf("%w: %q", ErrUnknownEncoding, enc)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(StatementHeader); err != nil {
		return fmt.Errorf("banking: statement: %w", err)
	}
	for _, p := range postings {
		var out, in string
		if p.Amount < 0 {
			out = strconv.FormatInt(-p.Amount, 10)
		} else {
			in = strconv.FormatInt(p.Amount, 10)
		}
		date := fmt.Sprintf("%04d/%02d/%02d", p.Date.Year, p.Date.Month, p.Date.Day)
		if err := cw.Write([]string{date, cell(p.Description), out, in, strconv.FormatInt(p.BalanceAfter, 10)}); err != nil {
			return fmt.Errorf("banking: statement: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("banking: statement: %w", err)
	}
	if tw != nil {
		if err := tw.Close(); err != nil {
			return fmt.Errorf("banking: statement: %w", err)
		}
	}
	return nil
}

// cellText keeps a spreadsheet from reading text as a formula.
func cellText(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// shiftJISSafe replaces each character that Shift_JIS lacks with "?".
func shiftJISSafe(s string) string {
	enc := japanese.ShiftJIS.NewEncoder()
	if _, err := enc.String(s); err == nil {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if _, err := enc.String(string(r)); err != nil {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
