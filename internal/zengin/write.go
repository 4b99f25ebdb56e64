package zengin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrNoFile is returned by Write for a nil file.
var ErrNoFile = errors.New("zengin: no file to write")

// WriteOptions are the choices a bank makes about the layout of a file.
type WriteOptions struct {
	CRLF bool // end every record with CR LF (122 bytes a record)
	EOF  bool // end the file with an EOF byte (0x1A)
}

// Write writes f as a 総合振込 file: the header, the transfers, a trailer
// with their count and total (computed here), and the end record. Numbers
// are right-aligned and zero-filled, text is left-aligned and
// space-filled. Values that do not fit, text outside the Zengin character
// set (see NormalizeKana) and codes outside their lists are refused: all
// the problems are returned as an ErrorList and nothing is written.
func Write(w io.Writer, f *File, opts WriteOptions) error {
	if f == nil {
		return ErrNoFile
	}
	p := &parser{}
	var recs [][]byte
	recs = append(recs, writeHeader(p, 1, f.Header))
	var (
		total    int64
		overflow bool
	)
	for i, t := range f.Records {
		recs = append(recs, writeTransfer(p, i+2, t))
		if t.Amount > 0 && t.Amount <= MaxAmount {
			total += t.Amount
			if total > MaxTotal {
				overflow = true
			}
		}
	}
	line := len(recs) + 1
	if len(f.Records) == 0 {
		p.fail(line, field{name: recordNames[divData][0]}, CodeMissingRecord, "", "")
	}
	tr := newRecord(p, line, trailerLayout[:])
	tr.put(tDivision, []byte{divTrailer})
	if len(f.Records) > MaxCount {
		tr.fail(tCount, CodeTooLong, strconv.Itoa(len(f.Records)), strconv.Itoa(trailerLayout[tCount].width))
	} else {
		tr.number(tCount, strconv.Itoa(len(f.Records)), false)
	}
	if overflow {
		tr.fail(tTotal, CodeTooLong, "> "+strconv.FormatInt(MaxTotal, 10), strconv.Itoa(trailerLayout[tTotal].width))
	} else {
		tr.number(tTotal, strconv.FormatInt(total, 10), false)
	}
	recs = append(recs, tr.rec)
	end := newRecord(p, line+1, endLayout[:])
	end.put(eDivision, []byte{divEnd})
	recs = append(recs, end.rec)
	if len(p.errs) > 0 {
		return p.errs
	}

	var buf bytes.Buffer
	for _, r := range recs {
		buf.Write(r)
		if opts.CRLF {
			buf.WriteString("\r\n")
		}
	}
	if opts.EOF {
		buf.WriteByte(eof)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("zengin: write: %w", err)
	}
	return nil
}

// writeHeader formats the header record.
func writeHeader(p *parser, line int, h Header) []byte {
	r := newRecord(p, line, headerLayout[:])
	r.put(hDivision, []byte{divHeader})
	if k := h.Kind.orGeneral(); k.Valid() {
		r.put(hTypeCode, []byte(k))
	} else {
		r.fail(hTypeCode, CodeUnsupportedType, string(h.Kind), "21, 11, 12")
	}
	r.put(hCodeDivision, []byte(CodeDivision))
	r.number(hRequesterCode, h.RequesterCode, false)
	r.text(hRequesterName, h.RequesterName, true)
	if h.Date.Valid() {
		r.put(hDate, []byte(h.Date.String()))
	} else {
		r.fail(hDate, CodeInvalidDate, h.Date.String(), "")
	}
	r.number(hBankCode, h.BankCode, false)
	r.text(hBankName, h.BankName, false)
	r.number(hBranchCode, h.BranchCode, false)
	r.text(hBranchName, h.BranchName, false)
	if h.AccountType.validRequester() {
		r.put(hAccountType, []byte{byte('0' + h.AccountType)})
	} else {
		r.fail(hAccountType, CodeInvalidValue, strconv.Itoa(int(h.AccountType)), "1 普通, 2 当座, 9 その他")
	}
	r.number(hAccountNumber, h.AccountNumber, false)
	return r.rec
}

// writeTransfer formats a data record.
func writeTransfer(p *parser, line int, t Transfer) []byte {
	r := newRecord(p, line, dataLayout[:])
	r.put(dDivision, []byte{divData})
	r.number(dBankCode, t.BankCode, false)
	r.text(dBankName, t.BankName, false)
	r.number(dBranchCode, t.BranchCode, false)
	r.text(dBranchName, t.BranchName, false)
	r.number(dClearingHouse, t.ClearingHouse, true)
	if t.AccountType.validPayee() {
		r.put(dAccountType, []byte{byte('0' + t.AccountType)})
	} else {
		r.fail(dAccountType, CodeInvalidValue, strconv.Itoa(int(t.AccountType)), "1 普通, 2 当座, 4 貯蓄, 9 その他")
	}
	r.number(dAccountNumber, t.AccountNumber, false)
	r.text(dPayeeName, t.PayeeName, true)
	switch a := t.Amount; {
	case a == 0:
		r.fail(dAmount, CodeZeroAmount, "0", "")
	case a < 0:
		r.fail(dAmount, CodeInvalidAmount, strconv.FormatInt(a, 10), "")
	default:
		r.number(dAmount, strconv.FormatInt(a, 10), false)
	}
	switch t.NewCode {
	case NewCodeOther, NewCodeFirst, NewCodeChange:
		r.put(dNewCode, []byte{byte('0' + t.NewCode)})
	default:
		r.fail(dNewCode, CodeInvalidValue, strconv.Itoa(int(t.NewCode)), "0, 1, 2")
	}
	if t.EDI != "" {
		if t.CustomerCode1 != "" || t.CustomerCode2 != "" {
			r.fail(dCustomerCode1, CodeEDIConflict, "", "")
		}
		r.put(dIdentification, []byte{'Y'})
		at := offset(dataLayout[:], dCustomerCode1)
		r.textAt(ediField, at, t.EDI, true)
	} else {
		r.number(dCustomerCode1, t.CustomerCode1, true)
		r.number(dCustomerCode2, t.CustomerCode2, true)
	}
	switch t.Method {
	case MethodUnspecified: // left as a space
	case MethodTelegraphic, MethodDocument:
		r.put(dMethod, []byte{byte('0' + t.Method)})
	default:
		r.fail(dMethod, CodeInvalidValue, strconv.Itoa(int(t.Method)), "0 (スペース, space), 7, 8")
	}
	return r.rec
}

// record is a record being written: RecordLen bytes, spaces until a field
// is put.
type record struct {
	p      *parser
	line   int
	layout []field
	rec    []byte
}

// newRecord starts a record of the given layout.
func newRecord(p *parser, line int, layout []field) *record {
	return &record{p: p, line: line, layout: layout, rec: bytes.Repeat([]byte{' '}, RecordLen)}
}

// fail records an error about field i.
func (r *record) fail(i int, code, value, expected string) {
	r.p.fail(r.line, r.layout[i], code, value, expected)
}

// put places b, of the field's exact width, in field i.
func (r *record) put(i int, b []byte) {
	copy(r.rec[offset(r.layout, i):][:r.layout[i].width], b)
}

// number places digits right-aligned and zero-filled in field i. An empty
// value is refused, or written as zeros when optional.
func (r *record) number(i int, v string, optional bool) {
	f := r.layout[i]
	switch {
	case v == "" && optional:
		r.put(i, bytes.Repeat([]byte{'0'}, f.width))
		return
	case v == "":
		r.fail(i, CodeRequired, "", "")
		return
	case !allDigits([]byte(v)):
		r.fail(i, CodeNotNumeric, v, "")
		return
	case len(v) > f.width:
		r.fail(i, CodeTooLong, v, strconv.Itoa(f.width))
		return
	}
	b := append(bytes.Repeat([]byte{'0'}, f.width-len(v)), v...)
	r.put(i, b)
}

// text places Zengin text left-aligned and space-filled in field i.
func (r *record) text(i int, v string, required bool) {
	r.textAt(r.layout[i], offset(r.layout, i), v, required)
}

// textAt places Zengin text in field f at byte offset at.
func (r *record) textAt(f field, at int, v string, required bool) {
	if v == "" {
		if required {
			r.p.fail(r.line, f, CodeRequired, "", "")
		}
		return
	}
	for _, c := range v {
		if !inSet(c) {
			r.p.fail(r.line, f, CodeInvalidCharacter, string(c), "")
			return
		}
	}
	if Width(v) > f.width {
		r.p.fail(r.line, f, CodeTooLong, v, strconv.Itoa(f.width))
		return
	}
	b, err := EncodeSJIS(v)
	if err != nil { // cannot happen: every character of the set encodes
		r.p.fail(r.line, f, CodeInvalidCharacter, v, "")
		return
	}
	copy(r.rec[at:at+f.width], b)
}
