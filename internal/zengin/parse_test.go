package zengin

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestLayoutWidths(t *testing.T) {
	for name, l := range map[string][]field{
		"header":  headerLayout[:],
		"data":    dataLayout[:],
		"trailer": trailerLayout[:],
		"end":     endLayout[:],
	} {
		t.Run(name, func(t *testing.T) {
			sum := 0
			for i, f := range l {
				if f.width <= 0 || f.name == "" || f.en == "" || f.kind == 0 {
					t.Errorf("field %d is incomplete: %+v", i, f)
				}
				sum += f.width
			}
			if sum != RecordLen {
				t.Errorf("widths add up to %d, want %d", sum, RecordLen)
			}
		})
	}
	// EDI情報 takes exactly the place of the two customer codes.
	if got := dataLayout[dCustomerCode1].width + dataLayout[dCustomerCode2].width; got != ediField.width {
		t.Errorf("customer codes are %d bytes, EDI情報 %d", got, ediField.width)
	}
	if got, want := offset(dataLayout[:], dMethod), 111; got != want {
		t.Errorf("振込指定区分 at byte %d, want %d (position 112)", got, want)
	}
}

func TestParseValidFiles(t *testing.T) {
	for _, name := range []string{"valid_nosep.dat", "valid_crlf.dat", "valid_crlf_eof.dat", "valid_lf.dat"} {
		t.Run(name, func(t *testing.T) {
			f, err := Parse(bytes.NewReader(readTestdata(t, name)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(wantValid, f); diff != "" {
				t.Errorf("parsed file (-want +got):\n%s", diff)
			}
			if got := f.Total(); got != 1287567 {
				t.Errorf("Total = %d, want 1287567", got)
			}
		})
	}
}

func TestParseInvalidFiles(t *testing.T) {
	tests := []struct {
		file string
		want ErrorList
	}{
		{"invalid_count.dat", ErrorList{
			{Line: 5, Field: "合計件数", Code: CodeCountMismatch, Value: "4", Expected: "3"},
		}},
		{"invalid_total.dat", ErrorList{
			{Line: 5, Field: "合計金額", Code: CodeTotalMismatch, Value: "1287566", Expected: "1287567"},
		}},
		{"invalid_short.dat", ErrorList{
			{Line: 4, Field: "レコード", Code: CodeShortRecord, Value: "119", Expected: "120"},
		}},
		{"invalid_order.dat", ErrorList{
			{Line: 1, Field: "データ・レコード", Code: CodeBadRecordOrder, Value: "2"},
			{Line: 2, Field: "ヘッダー・レコード", Code: CodeBadRecordOrder, Value: "1"},
		}},
		{"invalid_kana.dat", ErrorList{
			{Line: 1, Field: "振込依頼人名", Code: CodeInvalidCharacter, Value: "ｰ"},
			{Line: 2, Field: "被仕向銀行名", Code: CodeInvalidCharacter, Value: "m"},
			{Line: 2, Field: "受取人名", Code: CodeInvalidCharacter, Value: "山"},
			{Line: 3, Field: "受取人名", Code: CodeInvalidCharacter, Value: "ｬ"},
		}},
		{"invalid_fields.dat", ErrorList{
			{Line: 1, Field: "種別コード", Code: CodeUnsupportedType, Value: "91", Expected: "21, 11, 12"},
			{Line: 1, Field: "コード区分", Code: CodeUnsupportedCode, Value: "1", Expected: "0"},
			{Line: 1, Field: "振込依頼人コード", Code: CodeNotNumeric, Value: "00000A2345"},
			{Line: 1, Field: "振込指定日", Code: CodeInvalidDate, Value: "0230"},
			{Line: 1, Field: "預金種目(依頼人)", Code: CodeInvalidValue, Value: "4", Expected: "1 普通, 2 当座, 9 その他"},
			{Line: 1, Field: "ダミー", Code: CodeNotBlank, Value: "X"},
			{Line: 2, Field: "預金種目", Code: CodeInvalidValue, Value: "3", Expected: "1 普通, 2 当座, 4 貯蓄, 9 その他"},
			{Line: 2, Field: "受取人名", Code: CodeRequired},
			{Line: 2, Field: "振込金額", Code: CodeNotNumeric, Value: "00000A0000"},
			{Line: 2, Field: "新規コード", Code: CodeInvalidValue, Value: "3", Expected: "0, 1, 2"},
			{Line: 2, Field: "振込指定区分", Code: CodeInvalidValue, Value: "9", Expected: "7, 8, スペース (space)"},
			{Line: 2, Field: "識別表示", Code: CodeInvalidValue, Value: "N", Expected: "Y, スペース (space)"},
			{Line: 3, Field: "振込金額", Code: CodeZeroAmount, Value: "0000000000"},
			{Line: 4, Field: "データ区分", Code: CodeUnknownRecord, Value: "5"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := Parse(bytes.NewReader(readTestdata(t, tt.file)))
			if f != nil {
				t.Errorf("Parse returned a file with errors: %+v", f)
			}
			var got ErrorList
			if !errors.As(err, &got) {
				t.Fatalf("Parse error = %v, want an ErrorList", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// records of the valid file, for variations made in memory.
func validBytes(t *testing.T) [][]byte {
	var out [][]byte
	for _, r := range validRecords(t) {
		out = append(out, []byte(r))
	}
	return out
}

// with returns a copy of record r with b written at byte offset at.
func with(r []byte, at int, b string) []byte {
	out := bytes.Clone(r)
	copy(out[at:], b)
	return out
}

func TestParseVariations(t *testing.T) {
	v := validBytes(t)
	h, d1, d2, d3, tr, end := v[0], v[1], v[2], v[3], v[4], v[5]
	cc1 := offset(dataLayout[:], dCustomerCode1)
	tests := []struct {
		name string
		recs [][]byte
		sep  string
		tail string
		want ErrorList
	}{
		{"empty file", nil, "", "", ErrorList{{Code: CodeEmptyFile}}},
		{"only an EOF byte", nil, "", "\x1a", ErrorList{{Code: CodeEmptyFile}}},
		{"only line breaks", nil, "", "\r\n\r\n", ErrorList{{Code: CodeEmptyFile}}},
		{"no end record", [][]byte{h, d1, d2, d3, tr}, "\r\n", "", ErrorList{
			{Field: "エンド・レコード", Code: CodeMissingRecord},
		}},
		{"no trailer and no end", [][]byte{h, d1, d2, d3}, "", "", ErrorList{
			{Field: "トレーラー・レコード", Code: CodeMissingRecord},
		}},
		{"no data records", [][]byte{h, with(tr, 1, "000000000000000000"), end}, "\r\n", "", ErrorList{
			{Line: 2, Field: "データ・レコード", Code: CodeMissingRecord},
		}},
		{"record after the end", [][]byte{h, d1, d2, d3, tr, end, end}, "\r\n", "", ErrorList{
			{Line: 7, Field: "エンド・レコード", Code: CodeBadRecordOrder, Value: "9"},
		}},
		{"data after the trailer", [][]byte{h, d1, d2, tr, d3, end}, "\r\n", "", ErrorList{
			{Line: 4, Field: "合計件数", Code: CodeCountMismatch, Value: "3", Expected: "2"},
			{Line: 4, Field: "合計金額", Code: CodeTotalMismatch, Value: "1287567", Expected: "1284567"},
			{Line: 5, Field: "データ・レコード", Code: CodeBadRecordOrder, Value: "2"},
			{Line: 6, Field: "エンド・レコード", Code: CodeBadRecordOrder, Value: "9"},
		}},
		{"two headers", [][]byte{h, h, d1, d2, d3, tr, end}, "", "", ErrorList{
			{Line: 2, Field: "ヘッダー・レコード", Code: CodeBadRecordOrder, Value: "1"},
		}},
		{"short last record without separators", [][]byte{h, d1, d2, d3, tr, end[:100]}, "", "", ErrorList{
			{Line: 6, Field: "レコード", Code: CodeShortRecord, Value: "100", Expected: "120"},
		}},
		{"long line", [][]byte{h, d1, append(bytes.Clone(d2), ' '), d3, tr, end}, "\n", "", ErrorList{
			{Line: 3, Field: "レコード", Code: CodeLongRecord, Value: "121", Expected: "120"},
		}},
		{"empty line in the middle", [][]byte{h, d1, {}, d2, d3, tr, end}, "\r\n", "", ErrorList{
			{Line: 3, Field: "レコード", Code: CodeShortRecord, Value: "0", Expected: "120"},
		}},
		{"bytes after the EOF byte", [][]byte{h, d1, d2, d3, tr, end}, "", "\x1a\x1a", ErrorList{
			{Line: 7, Field: "レコード", Code: CodeShortRecord, Value: "1", Expected: "120"},
		}},
		{"EBCDIC code division", [][]byte{with(h, 3, "1"), d1, d2, d3, tr, end}, "", "", ErrorList{
			{Line: 1, Field: "コード区分", Code: CodeUnsupportedCode, Value: "1", Expected: "0"},
		}},
		{"blank bank code", [][]byte{h, with(d1, 1, "    "), d2, d3, tr, end}, "", "", ErrorList{
			{Line: 2, Field: "被仕向銀行番号", Code: CodeRequired},
		}},
		{"control character in a name", [][]byte{h, with(d1, 50, "\xd4\x00"), d2, d3, tr, end}, "", "", ErrorList{
			{Line: 2, Field: "受取人名", Code: CodeInvalidCharacter, Value: `\x00`},
		}},
		{"EDI mark with blank EDI", [][]byte{h, d1, d2, with(d3, cc1, sp(20)), tr, end}, "", "", ErrorList{
			{Line: 4, Field: "EDI情報", Code: CodeRequired},
		}},
		{"customer code with letters", [][]byte{h, with(d1, cc1, "00000ABCDE"), d2, d3, tr, end}, "", "", ErrorList{
			{Line: 2, Field: "顧客コード1", Code: CodeNotNumeric, Value: "00000ABCDE"},
		}},
		{"trailer with letters", [][]byte{h, d1, d2, d3, with(tr, 1, "00000X"), end}, "", "", ErrorList{
			{Line: 5, Field: "合計件数", Code: CodeNotNumeric, Value: "00000X"},
		}},
		{"end record not blank", [][]byte{h, d1, d2, d3, tr, with(end, 119, "0")}, "", "", ErrorList{
			{Line: 6, Field: "ダミー", Code: CodeNotBlank, Value: "0"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			for _, r := range tt.recs {
				b.Write(r)
				b.WriteString(tt.sep)
			}
			b.WriteString(tt.tail)
			f, err := Parse(&b)
			var got ErrorList
			if !errors.As(err, &got) {
				t.Fatalf("Parse = %+v, %v; want an ErrorList", f, err)
			}
			if f != nil {
				t.Errorf("Parse returned a file with errors")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseLenient checks the forms of optional fields that files made by
// other programs use: blanks instead of zeros, 0 for an unspecified
// 振込指定区分 or 新規コード, a blank 手形交換所番号.
func TestParseLenient(t *testing.T) {
	v := validBytes(t)
	h, d1, d2, d3, tr, end := v[0], v[1], v[2], v[3], v[4], v[5]
	d1 = with(d1, offset(dataLayout[:], dClearingHouse), "    ")
	d1 = with(d1, offset(dataLayout[:], dCustomerCode1), sp(20))
	d1 = with(d1, offset(dataLayout[:], dMethod), "0")
	d1 = with(d1, offset(dataLayout[:], dNewCode), " ")
	d2 = with(d2, offset(dataLayout[:], dClearingHouse), "0123")
	f, err := Parse(bytes.NewReader(bytes.Join([][]byte{h, d1, d2, d3, tr, end}, []byte("\r\n"))))
	if err != nil {
		t.Fatal(err)
	}
	want := *wantValid
	want.Records = append([]Transfer(nil), wantValid.Records...)
	want.Records[0].CustomerCode1, want.Records[0].CustomerCode2 = "", ""
	want.Records[0].Method = MethodUnspecified
	want.Records[1].ClearingHouse = "0123"
	if diff := cmp.Diff(&want, f); diff != "" {
		t.Errorf("parsed file (-want +got):\n%s", diff)
	}
}

func TestParseTooManyErrors(t *testing.T) {
	// 1200 records of an unknown division: one error each.
	data := bytes.Repeat([]byte("X"+sp(119)), MaxErrors+200)
	_, err := Parse(bytes.NewReader(data))
	var got ErrorList
	if !errors.As(err, &got) {
		t.Fatalf("Parse error = %v, want an ErrorList", err)
	}
	if len(got) != MaxErrors+1 {
		t.Fatalf("%d errors, want %d", len(got), MaxErrors+1)
	}
	if last := got[len(got)-1]; last.Code != CodeTooManyErrors || last.Line != MaxErrors+1 {
		t.Errorf("last error = %+v, want too_many_errors at record %d", last, MaxErrors+1)
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := Parse(iotest.ErrReader(boom))
	if !errors.Is(err, boom) {
		t.Errorf("Parse error = %v, want it to wrap %v", err, boom)
	}
	var list ErrorList
	if errors.As(err, &list) {
		t.Errorf("a read error is not a format error: %v", err)
	}
}

func TestFieldErrorMessages(t *testing.T) {
	codes := []string{CodeEmptyFile, CodeShortRecord, CodeLongRecord, CodeUnknownRecord, CodeBadRecordOrder,
		CodeMissingRecord, CodeNotNumeric, CodeInvalidCharacter, CodeRequired, CodeZeroAmount, CodeInvalidAmount,
		CodeInvalidValue, CodeInvalidDate, CodeUnsupportedType, CodeUnsupportedCode, CodeNotBlank,
		CodeCountMismatch, CodeTotalMismatch, CodeTooLong, CodeEDIConflict, CodeTooManyErrors}
	if len(codes) != len(messages) {
		t.Errorf("%d codes, %d messages", len(codes), len(messages))
	}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			e := FieldError{Line: 3, Field: "受取人名", Code: code, Value: "山", Expected: "30"}
			ja, en := e.Message("ja"), e.Message("en")
			if !strings.HasPrefix(ja, "3件目のレコード: ") || !strings.HasPrefix(en, "Record 3: ") {
				t.Errorf("messages do not start with the record: %q, %q", ja, en)
			}
			for _, m := range []string{ja, en} {
				if strings.ContainsAny(m, "{}") {
					t.Errorf("placeholder left in %q", m)
				}
			}
			if strings.Contains(messages[code][0], "{field}") && !strings.Contains(ja, "受取人名") {
				t.Errorf("ja message does not name the field: %q", ja)
			}
			if strings.Contains(messages[code][1], "{field}") && !strings.Contains(en, "payee name (受取人名)") &&
				!strings.Contains(en, "Payee name (受取人名)") {
				t.Errorf("en message does not name the field: %q", en)
			}
			if strings.Contains(messages[code][0], "{value}") && !strings.Contains(ja, "山") {
				t.Errorf("ja message does not show the value: %q", ja)
			}
			if e.Message("fr") != ja {
				t.Errorf("other languages should get Japanese")
			}
		})
	}

	got := FieldError{Line: 2, Field: "受取人名", Code: CodeInvalidCharacter, Value: "山"}.Message("en")
	want := `Record 2: Payee name (受取人名) contains the character "山", which is not in the Zengin character set. Kanji cannot be used: enter the reading in kana (companies use abbreviations such as カ) for 株式会社).`
	if got != want {
		t.Errorf("Message(en) =\n%q, want\n%q", got, want)
	}
	got = FieldError{Line: 3, Field: "受取人名", Code: CodeInvalidCharacter, Value: "ｬ"}.Message("ja")
	if want := "3件目のレコード: 受取人名に使えない文字「ｬ」があります。「ｬ」の代わりに「ﾔ」を使ってください（振込の名義に小さい文字は使いません）。"; got != want {
		t.Errorf("Message(ja) = %q, want %q", got, want)
	}
	got = FieldError{Line: 1, Field: "振込依頼人名", Code: CodeInvalidCharacter, Value: "ｰ"}.Message("en")
	if want := `Record 1: Requester name (振込依頼人名) contains the character "ｰ", which is not in the Zengin character set. Use a hyphen "-" instead of the long vowel mark.`; got != want {
		t.Errorf("Message(en) = %q, want %q", got, want)
	}
	got = FieldError{Code: CodeEmptyFile}.Message("ja")
	if want := "ファイルが空です。全銀協形式の総合振込ファイルを選んでください。"; got != want {
		t.Errorf("Message(ja) = %q, want %q", got, want)
	}
	if got, want := (FieldError{Line: 5, Field: "合計件数", Code: CodeCountMismatch, Value: "4", Expected: "3"}).Error(),
		`zengin: record 5: 合計件数: count_mismatch "4" (expected 3)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	list := ErrorList{{Line: 1, Code: CodeRequired, Field: "受取人名"}, {Line: 2, Code: CodeZeroAmount, Field: "振込金額"}}
	if got, want := list.Error(), "zengin: record 1: 受取人名: required (and 1 more errors)"; got != want {
		t.Errorf("ErrorList.Error() = %q, want %q", got, want)
	}
	if got := list.Messages("ja"); len(got) != 2 || got[1] != "2件目のレコード: 振込金額が0円です。1円以上の金額にしてください。" {
		t.Errorf("Messages(ja) = %q", got)
	}
}
