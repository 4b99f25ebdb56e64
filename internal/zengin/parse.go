package zengin

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// eof is the end-of-file byte (Ctrl-Z) that some programs put at the end of
// a file.
const eof = 0x1A

// Parse reads a 総合振込 file: records of 120 bytes with or without CR LF
// (or LF) after each, and optionally an EOF byte (0x1A) at the very end.
// It checks every record and every field and returns all the problems as
// an ErrorList (at most MaxErrors of them); the file is returned only when
// there are none. Only read errors are returned otherwise. The caller
// limits the size of r.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("zengin: read: %w", err)
	}
	p := &parser{}
	f := p.parse(data)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return f, nil
}

// parser collects the errors of one file.
type parser struct {
	errs ErrorList
	full bool
}

// add records an error, up to MaxErrors of them.
func (p *parser) add(e FieldError) {
	if p.full {
		return
	}
	if len(p.errs) >= MaxErrors {
		p.errs = append(p.errs, FieldError{Line: e.Line, Code: CodeTooManyErrors})
		p.full = true
		return
	}
	p.errs = append(p.errs, e)
}

// fail records an error about field f of record line.
func (p *parser) fail(line int, f field, code, value, expected string) {
	p.add(FieldError{Line: line, Field: f.name, Code: code, Value: value, Expected: expected})
}

// records cuts the file into records. With line breaks anywhere, each
// line is a record (CR LF or LF; empty lines at the end are ignored);
// without, the file is cut every RecordLen bytes.
func records(data []byte) [][]byte {
	if n := len(data); n > 0 && data[n-1] == eof {
		data = data[:n-1]
	}
	if !bytes.ContainsAny(data, "\r\n") {
		var out [][]byte
		for len(data) > 0 {
			n := min(RecordLen, len(data))
			out = append(out, data[:n])
			data = data[n:]
		}
		return out
	}
	lines := bytes.Split(data, []byte{'\n'})
	for len(lines) > 0 && len(bytes.TrimSuffix(lines[len(lines)-1], []byte{'\r'})) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte{'\r'})
	}
	return lines
}

// mayFollow lists, for each record division, the divisions that may follow it
// (0 is the start of the file).
var mayFollow = map[byte]string{
	0:          string(rune(divHeader)),
	divHeader:  string(rune(divData)),
	divData:    string([]byte{divData, divTrailer}),
	divTrailer: string(rune(divEnd)),
	divEnd:     "",
}

// mustFollow is the record that must come next after a record division, for
// a file that ends too early.
var mustFollow = map[byte]byte{0: divHeader, divHeader: divData, divData: divTrailer, divTrailer: divEnd}

// parse checks the records one by one and in their order.
func (p *parser) parse(data []byte) *File {
	recs := records(data)
	if len(recs) == 0 {
		p.add(FieldError{Code: CodeEmptyFile})
		return nil
	}
	f := &File{}
	var (
		prev      byte // division of the last record with a known division
		headers   int
		dataCount int
		sum       int64
		sumKnown  = true
	)
	for i, rec := range recs {
		line := i + 1
		div := byte(0)
		if len(rec) > 0 {
			div = rec[0]
		}
		known := div == divHeader || div == divData || div == divTrailer || div == divEnd
		if len(rec) != RecordLen {
			code := CodeShortRecord
			if len(rec) > RecordLen {
				code = CodeLongRecord
			}
			p.fail(line, recordField, code, strconv.Itoa(len(rec)), strconv.Itoa(RecordLen))
		} else if !known {
			p.fail(line, divisionField, CodeUnknownRecord, show(rec[:1]), "")
		}
		if !known {
			continue
		}
		if !strings.ContainsRune(mayFollow[prev], rune(div)) {
			if prev == divHeader && div == divTrailer {
				p.fail(line, field{name: recordNames[divData][0]}, CodeMissingRecord, "", "")
			} else {
				p.fail(line, field{name: recordNames[div][0]}, CodeBadRecordOrder, string(rune(div)), "")
			}
		}
		prev = div
		if div == divData {
			dataCount++
		}
		if len(rec) != RecordLen {
			if div == divData {
				sumKnown = false
			}
			continue
		}
		switch div {
		case divHeader:
			h := p.header(line, rec)
			if headers == 0 {
				f.Header = h
			}
			headers++
		case divData:
			t, ok := p.transfer(line, rec)
			f.Records = append(f.Records, t)
			switch {
			case !ok:
				sumKnown = false
			case sum+t.Amount > MaxTotal:
				sum = MaxTotal + 1 // cannot match any 合計金額
			default:
				sum += t.Amount
			}
		case divTrailer:
			p.trailer(line, rec, dataCount, sum, sumKnown)
		case divEnd:
			p.end(line, rec)
		}
	}
	if prev != divEnd {
		p.add(FieldError{Field: recordNames[mustFollow[prev]][0], Code: CodeMissingRecord})
	}
	return f
}

// header checks a header record.
func (p *parser) header(line int, rec []byte) Header {
	v := split(rec, headerLayout[:])
	L := &headerLayout
	kind := Kind(v[hTypeCode])
	switch {
	case kind.Valid():
	case !allDigits(v[hTypeCode]):
		p.fail(line, L[hTypeCode], CodeNotNumeric, show(v[hTypeCode]), "")
	default:
		p.fail(line, L[hTypeCode], CodeUnsupportedType, string(v[hTypeCode]), "21, 11, 12")
	}
	p.fixed(line, L[hCodeDivision], v[hCodeDivision], CodeDivision, CodeUnsupportedCode)
	h := Header{
		Kind:          kind,
		RequesterCode: p.digits(line, L[hRequesterCode], v[hRequesterCode]),
		RequesterName: p.text(line, L[hRequesterName], v[hRequesterName], true),
		Date:          p.date(line, L[hDate], v[hDate]),
		BankCode:      p.digits(line, L[hBankCode], v[hBankCode]),
		BankName:      p.text(line, L[hBankName], v[hBankName], false),
		BranchCode:    p.digits(line, L[hBranchCode], v[hBranchCode]),
		BranchName:    p.text(line, L[hBranchName], v[hBranchName], false),
		AccountType:   p.accountType(line, L[hAccountType], v[hAccountType], false),
		AccountNumber: p.digits(line, L[hAccountNumber], v[hAccountNumber]),
	}
	p.dummy(line, L[hDummy], v[hDummy])
	return h
}

// transfer checks a data record, reporting whether its amount is known.
func (p *parser) transfer(line int, rec []byte) (Transfer, bool) {
	v := split(rec, dataLayout[:])
	L := &dataLayout
	t := Transfer{
		BankCode:      p.digits(line, L[dBankCode], v[dBankCode]),
		BankName:      p.text(line, L[dBankName], v[dBankName], false),
		BranchCode:    p.digits(line, L[dBranchCode], v[dBranchCode]),
		BranchName:    p.text(line, L[dBranchName], v[dBranchName], false),
		ClearingHouse: p.optionalDigits(line, L[dClearingHouse], v[dClearingHouse]),
		AccountType:   p.accountType(line, L[dAccountType], v[dAccountType], true),
		AccountNumber: p.digits(line, L[dAccountNumber], v[dAccountNumber]),
		PayeeName:     p.text(line, L[dPayeeName], v[dPayeeName], true),
	}
	amountOK := false
	if a := p.digits(line, L[dAmount], v[dAmount]); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		switch {
		case err != nil: // cannot happen with 10 digits
			p.fail(line, L[dAmount], CodeNotNumeric, a, "")
		case n == 0:
			p.fail(line, L[dAmount], CodeZeroAmount, a, "")
		default:
			t.Amount, amountOK = n, true
		}
	}
	switch c := v[dNewCode][0]; c {
	case ' ', '0':
		t.NewCode = NewCodeOther
	case '1', '2':
		t.NewCode = NewCode(c - '0')
	default:
		p.badCode(line, L[dNewCode], v[dNewCode], "0, 1, 2")
	}
	// 識別表示 decides what the customer-code bytes hold; its own error
	// comes after those of the fields before it.
	switch v[dIdentification][0] {
	case 'Y':
		edi := rec[offset(dataLayout[:], dCustomerCode1):][:EDIWidth]
		t.EDI = p.text(line, ediField, edi, true)
	default:
		t.CustomerCode1 = p.optionalDigits(line, L[dCustomerCode1], v[dCustomerCode1])
		t.CustomerCode2 = p.optionalDigits(line, L[dCustomerCode2], v[dCustomerCode2])
	}
	switch c := v[dMethod][0]; c {
	case ' ', '0':
		t.Method = MethodUnspecified
	case '7', '8':
		t.Method = Method(c - '0')
	default:
		p.badCode(line, L[dMethod], v[dMethod], "7, 8, スペース (space)")
	}
	if id := v[dIdentification][0]; id != 'Y' && id != ' ' {
		p.fail(line, L[dIdentification], CodeInvalidValue, show(v[dIdentification]), "Y, スペース (space)")
	}
	p.dummy(line, L[dDummy], v[dDummy])
	return t, amountOK
}

// trailer checks a trailer record against the data records before it.
func (p *parser) trailer(line int, rec []byte, count int, sum int64, sumKnown bool) {
	v := split(rec, trailerLayout[:])
	L := &trailerLayout
	if c := p.digits(line, L[tCount], v[tCount]); c != "" {
		if n, _ := strconv.Atoi(c); n != count {
			p.fail(line, L[tCount], CodeCountMismatch, strconv.Itoa(n), strconv.Itoa(count))
		}
	}
	if s := p.digits(line, L[tTotal], v[tTotal]); s != "" && sumKnown {
		if n, _ := strconv.ParseInt(s, 10, 64); n != sum {
			want := strconv.FormatInt(sum, 10)
			if sum > MaxTotal {
				want = "> " + strconv.FormatInt(MaxTotal, 10)
			}
			p.fail(line, L[tTotal], CodeTotalMismatch, strconv.FormatInt(n, 10), want)
		}
	}
	p.dummy(line, L[tDummy], v[tDummy])
}

// end checks an end record.
func (p *parser) end(line int, rec []byte) {
	v := split(rec, endLayout[:])
	p.dummy(line, endLayout[eDummy], v[eDummy])
}

// fixed checks a field that has one allowed value: other digits are
// refused with code, anything else as not numeric.
func (p *parser) fixed(line int, f field, raw []byte, want, code string) {
	switch {
	case string(raw) == want:
	case !allDigits(raw):
		p.fail(line, f, CodeNotNumeric, show(raw), "")
	default:
		p.fail(line, f, code, string(raw), want)
	}
}

// digits checks a numeric field that must be all digits and returns it
// ("" when it is not).
func (p *parser) digits(line int, f field, raw []byte) string {
	if !allDigits(raw) {
		if isBlank(raw) {
			p.fail(line, f, CodeRequired, "", "")
		} else {
			p.fail(line, f, CodeNotNumeric, show(raw), "")
		}
		return ""
	}
	return string(raw)
}

// optionalDigits checks an unused or optional numeric field: spaces or
// zeros read as "", other digits as themselves.
func (p *parser) optionalDigits(line int, f field, raw []byte) string {
	if isBlank(raw) || len(bytes.Trim(raw, "0")) == 0 {
		return ""
	}
	return p.digits(line, f, raw)
}

// badCode reports a one-digit code outside its list.
func (p *parser) badCode(line int, f field, raw []byte, allowed string) {
	if allDigits(raw) {
		p.fail(line, f, CodeInvalidValue, string(raw), allowed)
		return
	}
	p.fail(line, f, CodeNotNumeric, show(raw), "")
}

// accountType checks a 預金種目: 1, 2, 9, and 4 for payees.
func (p *parser) accountType(line int, f field, raw []byte, payee bool) AccountType {
	if !allDigits(raw) {
		p.fail(line, f, CodeNotNumeric, show(raw), "")
		return 0
	}
	a := AccountType(raw[0] - '0')
	switch {
	case payee && a.validPayee(), !payee && a.validRequester():
		return a
	case payee:
		p.fail(line, f, CodeInvalidValue, string(raw), "1 普通, 2 当座, 4 貯蓄, 9 その他")
	default:
		p.fail(line, f, CodeInvalidValue, string(raw), "1 普通, 2 当座, 9 その他")
	}
	return 0
}

// date checks a month and day (MMDD).
func (p *parser) date(line int, f field, raw []byte) MonthDay {
	if !allDigits(raw) {
		p.fail(line, f, CodeNotNumeric, show(raw), "")
		return MonthDay{}
	}
	m, _ := strconv.Atoi(string(raw[:2]))
	d, _ := strconv.Atoi(string(raw[2:]))
	md := MonthDay{Month: time.Month(m), Day: d}
	if !md.Valid() {
		p.fail(line, f, CodeInvalidDate, string(raw), "")
		return MonthDay{}
	}
	return md
}

// text checks a text field and returns it without the trailing spaces.
func (p *parser) text(line int, f field, raw []byte, required bool) string {
	if i := firstInvalid(raw); i >= 0 {
		p.fail(line, f, CodeInvalidCharacter, charAt(raw, i), "")
		return ""
	}
	s, _ := DecodeSJIS(bytes.TrimRight(raw, " "))
	if s == "" && required {
		p.fail(line, f, CodeRequired, "", "")
	}
	return s
}

// dummy checks a filler: spaces only.
func (p *parser) dummy(line int, f field, raw []byte) {
	if !isBlank(raw) {
		p.fail(line, f, CodeNotBlank, strings.TrimSpace(show(raw)), "")
	}
}

// firstInvalid is the index of the first byte of raw that is not a Zengin
// character, or -1.
func firstInvalid(raw []byte) int {
	for i, c := range raw {
		r, ok := decodeByte(c)
		if !ok || !inSet(r) {
			return i
		}
	}
	return -1
}

// charAt shows the character that starts at raw[i], decoding two-byte
// Shift_JIS characters (kanji, full-width kana) so that the user sees
// which one it is.
func charAt(raw []byte, i int) string {
	if isLead(raw[i]) && i+1 < len(raw) {
		return show(raw[i : i+2])
	}
	return show(raw[i : i+1])
}

// isLead reports whether c is the first byte of a two-byte Shift_JIS
// character.
func isLead(c byte) bool { return (c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC) }

// show renders raw bytes of a field for a message: JIS X 0201 as such,
// two-byte Shift_JIS characters decoded, and any other byte as \xNN.
func show(raw []byte) string {
	var b strings.Builder
	for i := 0; i < len(raw); {
		c := raw[i]
		if r, ok := decodeByte(c); ok {
			b.WriteRune(r)
			i++
			continue
		}
		if isLead(c) && i+1 < len(raw) {
			s, err := japanese.ShiftJIS.NewDecoder().Bytes(raw[i : i+2])
			if r, _ := utf8.DecodeRune(s); err == nil && utf8.RuneCount(s) == 1 && r != utf8.RuneError {
				b.Write(s)
				i += 2
				continue
			}
		}
		fmt.Fprintf(&b, `\x%02X`, c)
		i++
	}
	return b.String()
}

// allDigits reports whether raw is one or more ASCII digits.
func allDigits(raw []byte) bool {
	if len(raw) == 0 {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isBlank reports whether raw holds spaces only.
func isBlank(raw []byte) bool {
	for _, c := range raw {
		if c != ' ' {
			return false
		}
	}
	return true
}

// offset is the position of field i in a record.
func offset(layout []field, i int) int {
	n := 0
	for _, f := range layout[:i] {
		n += f.width
	}
	return n
}
