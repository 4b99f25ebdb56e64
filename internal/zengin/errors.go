package zengin

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Codes of FieldError: stable, for programs and message catalogues.
const (
	CodeEmptyFile        = "empty_file"          // the file has no records
	CodeShortRecord      = "short_record"        // a record has fewer than 120 bytes
	CodeLongRecord       = "long_record"         // a line has more than 120 bytes
	CodeUnknownRecord    = "unknown_record_type" // データ区分 is not 1, 2, 8 or 9
	CodeBadRecordOrder   = "bad_record_order"    // not header, data..., trailer, end
	CodeMissingRecord    = "missing_record"      // a record that must be there is not
	CodeNotNumeric       = "not_numeric"         // a numeric field holds something else than digits
	CodeInvalidCharacter = "invalid_character"   // a text field holds a character outside the Zengin set
	CodeRequired         = "required"            // a field that must have a value is blank
	CodeZeroAmount       = "zero_amount"         // 振込金額 is 0
	CodeInvalidAmount    = "invalid_amount"      // a negative amount (writing only)
	CodeInvalidValue     = "invalid_value"       // a code outside its list (預金種目, 新規コード, ...)
	CodeInvalidDate      = "invalid_date"        // 振込指定日 is not a month and day
	CodeUnsupportedType  = "unsupported_type"    // 種別コード is not 21, 11 or 12
	CodeUnsupportedCode  = "unsupported_code"    // コード区分 is not 0
	CodeNotBlank         = "not_blank"           // a ダミー field holds something else than spaces
	CodeCountMismatch    = "count_mismatch"      // 合計件数 differs from the data records
	CodeTotalMismatch    = "total_mismatch"      // 合計金額 differs from the sum of the amounts
	CodeTooLong          = "too_long"            // a value does not fit in its field (writing only)
	CodeEDIConflict      = "edi_conflict"        // EDI情報 together with customer codes (writing only)
	CodeTooManyErrors    = "too_many_errors"     // checking stopped after MaxErrors errors
)

// MaxErrors is the number of errors after which Parse stops checking a
// file and adds a last error with CodeTooManyErrors.
const MaxErrors = 1000

// FieldError is one problem in a file: where (record and field), what
// (Code), and the value found.
type FieldError struct {
	Line     int    // record number, from 1; 0 for the file as a whole
	Field    string // Japanese name of the field as in the 全銀協 layout, e.g. 受取人名, or レコード
	Code     string // one of the Code* constants
	Value    string // the value found (for invalid_character: the first character that cannot be used)
	Expected string // what was expected, where the message needs it (count, total, width)
}

// Error describes the problem for logs.
func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString("zengin: ")
	if e.Line > 0 {
		b.WriteString("record " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Code)
	if e.Value != "" {
		b.WriteString(" " + strconv.Quote(e.Value))
	}
	if e.Expected != "" {
		b.WriteString(" (expected " + e.Expected + ")")
	}
	return b.String()
}

// fieldNames gives the English name of each Japanese field name.
var fieldNames = func() map[string]string {
	m := map[string]string{recordField.name: recordField.en, ediField.name: ediField.en}
	for _, l := range [][]field{headerLayout[:], dataLayout[:], trailerLayout[:], endLayout[:]} {
		for _, f := range l {
			m[f.name] = f.en
		}
	}
	for _, n := range recordNames {
		m[n[0]] = n[1]
	}
	return m
}()

// Message says what happened and what to do, in Japanese ("ja") or English
// ("en"); any other language gets Japanese.
func (e FieldError) Message(lang string) string {
	en := lang == "en"
	t, ok := messages[e.Code]
	if !ok {
		t = [2]string{"{field}の値「{value}」に誤りがあります（{code}）。", "{field}: the value \"{value}\" is wrong ({code})."}
	}
	msg, prefix := t[0], ""
	field := e.Field
	if en {
		msg = t[1]
		if n, ok := fieldNames[e.Field]; ok {
			field = n + " (" + e.Field + ")"
		}
		if e.Line > 0 {
			prefix = "Record " + strconv.Itoa(e.Line) + ": "
		}
	} else if e.Line > 0 {
		prefix = strconv.Itoa(e.Line) + "件目のレコード: "
	}
	hint := ""
	if e.Code == CodeInvalidCharacter {
		c, _ := utf8.DecodeRuneInString(e.Value)
		ja, enHint := charHint(c)
		hint = ja
		if en {
			hint = enHint
		}
	}
	r := strings.NewReplacer("{field}", field, "{value}", e.Value, "{expected}", e.Expected, "{code}", e.Code, "{hint}", hint)
	s := r.Replace(msg)
	if en && s != "" {
		r, size := utf8.DecodeRuneInString(s)
		s = string(unicode.ToUpper(r)) + s[size:]
	}
	return prefix + s
}

// messages are the texts of the codes: Japanese, English.
var messages = map[string][2]string{
	CodeEmptyFile: {
		"ファイルが空です。全銀協形式の総合振込ファイルを選んでください。",
		"the file is empty. Choose a general transfer (総合振込) file in the Zengin format.",
	},
	CodeShortRecord: {
		"レコードが{value}バイトしかありません（{expected}バイト必要です）。ファイルが途中で切れていないか、改行の位置が正しいか確かめてください。",
		"the record has only {value} bytes ({expected} are needed). Check that the file is complete and that the line breaks are in the right places.",
	},
	CodeLongRecord: {
		"レコードが{value}バイトあります（{expected}バイトのはずです）。改行の位置が正しいか確かめてください。",
		"the record has {value} bytes ({expected} expected). Check that the line breaks are in the right places.",
	},
	CodeUnknownRecord: {
		"データ区分「{value}」は使えません。1（ヘッダー）、2（データ）、8（トレーラー）、9（エンド）のいずれかです。",
		"the data division \"{value}\" is unknown: it must be 1 (header), 2 (data), 8 (trailer) or 9 (end).",
	},
	CodeBadRecordOrder: {
		"{field}がこの位置にあります。ヘッダー1件、データ1件以上、トレーラー1件、エンド1件の順に並べてください。",
		"a {field} is out of place. The records must be one header, one or more data records, one trailer and one end record, in this order.",
	},
	CodeMissingRecord: {
		"{field}がありません。ヘッダー1件、データ1件以上、トレーラー1件、エンド1件の順に並べてください。",
		"the {field} is missing. The records must be one header, one or more data records, one trailer and one end record, in this order.",
	},
	CodeNotNumeric: {
		"{field}「{value}」に数字以外の文字があります。半角数字で入力してください。",
		"{field} \"{value}\" contains characters other than digits. Use digits only.",
	},
	CodeInvalidCharacter: {
		"{field}に使えない文字「{value}」があります。{hint}",
		"{field} contains the character \"{value}\", which is not in the Zengin character set. {hint}",
	},
	CodeRequired: {
		"{field}が空です。入力してください。",
		"{field} is empty. Fill it in.",
	},
	CodeZeroAmount: {
		"{field}が0円です。1円以上の金額にしてください。",
		"{field} is 0 yen. Enter an amount of at least 1 yen.",
	},
	CodeInvalidAmount: {
		"{field}「{value}」は金額として使えません。1円以上の金額にしてください。",
		"{field} \"{value}\" is not a valid amount. Enter an amount of at least 1 yen.",
	},
	CodeInvalidValue: {
		"{field}「{value}」は使えない値です。使える値は {expected} です。",
		"{field} \"{value}\" is not allowed. Allowed values: {expected}.",
	},
	CodeInvalidDate: {
		"{field}「{value}」は月日（MMDD）として正しくありません。",
		"{field} \"{value}\" is not a valid month and day (MMDD).",
	},
	CodeUnsupportedType: {
		"種別コード「{value}」のファイルは扱えません。総合振込（種別コード21）、給与振込（11）または賞与振込（12）のファイルを選んでください。",
		"files with type code \"{value}\" cannot be used. Choose a general transfer (type code 21), salary (11) or bonus (12) file.",
	},
	CodeUnsupportedCode: {
		"コード区分「{value}」のファイルは扱えません。JIS（Shift_JIS、コード区分0）で作ったファイルを選んでください。",
		"files with code division \"{value}\" cannot be used. Choose a file made in JIS (Shift_JIS, code division 0).",
	},
	CodeNotBlank: {
		"{field}はスペースのはずですが「{value}」が入っています。",
		"the {field} must hold spaces only but holds \"{value}\".",
	},
	CodeCountMismatch: {
		"{field}が{value}件ですが、データ・レコードは{expected}件です。件数を合わせてください。",
		"{field} says {value} but there are {expected} data records. Make them agree.",
	},
	CodeTotalMismatch: {
		"{field}が{value}円ですが、振込金額の合計は{expected}円です。金額を合わせてください。",
		"{field} says {value} yen but the amounts add up to {expected} yen. Make them agree.",
	},
	CodeTooLong: {
		"{field}「{value}」は長すぎます（{expected}桁・文字まで）。",
		"{field} \"{value}\" is too long (at most {expected} characters).",
	},
	CodeEDIConflict: {
		"EDI情報と顧客コードは一緒に使えません。どちらか一方にしてください。",
		"EDI information and customer codes cannot be used together. Use one or the other.",
	},
	CodeTooManyErrors: {
		"誤りが多すぎるため、ここで確認をやめました。ファイルの形式が正しいか確かめてください。",
		"there are too many errors; checking stopped here. Check that the file has the right format.",
	},
}

// ErrorList is every problem found in a file, in the order of the file.
type ErrorList []FieldError

// Error describes the first problem and how many more there are.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "zengin: no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0].Error(), len(l)-1)
}

// Messages returns the message of every problem in language lang.
func (l ErrorList) Messages(lang string) []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.Message(lang)
	}
	return out
}
