// Package zengin reads and writes 総合振込 (general transfer) and 給与・賞与振込
// (salary and bonus) files in the
// fixed-length format of the Japanese Bankers Association (全銀協), and
// converts names to the Zengin character set (half-width katakana, capital
// letters, digits and a few symbols).
//
// It is pure format code: it knows nothing of accounts, users or the
// database, never moves money, and never panics on any input. A file that
// does not follow the format is refused as a whole, with every error found
// and the record and field where it was found.
package zengin

import (
	"strconv"
	"time"
)

// RecordLen is the length in bytes of every record, without separators.
const RecordLen = 120

// TypeCode is the 種別コード of a 総合振込 file, the Kind of a header whose
// Kind is empty.
const TypeCode = "21"

// Kind is the 種別コード of a file: 総合振込 (21), 給与振込 (11) or 賞与振込
// (12). The three share one layout; files of other kinds are refused.
type Kind string

// Kinds of files.
const (
	KindGeneral Kind = "21" // 総合振込
	KindSalary  Kind = "11" // 給与振込
	KindBonus   Kind = "12" // 賞与振込
)

// Valid reports whether k is one of the kinds read and written.
func (k Kind) Valid() bool { return k == KindGeneral || k == KindSalary || k == KindBonus }

// Payroll reports whether k is 給与振込 or 賞与振込.
func (k Kind) Payroll() bool { return k == KindSalary || k == KindBonus }

// orGeneral returns k, or KindGeneral when k is empty.
func (k Kind) orGeneral() Kind {
	if k == "" {
		return KindGeneral
	}
	return k
}

// CodeDivision is the コード区分 of a file in JIS (Shift_JIS, JIS X 0201
// single bytes), the only one supported; 1 (EBCDIC) is refused.
const CodeDivision = "0"

// Widths of the kana fields in bytes, one byte per character.
const (
	RequesterNameWidth = 40 // 振込依頼人名
	BankNameWidth      = 15 // 仕向銀行名, 被仕向銀行名
	BranchNameWidth    = 15 // 仕向支店名, 被仕向支店名
	PayeeNameWidth     = 30 // 受取人名
	EDIWidth           = 20 // EDI情報
)

// Limits of the numeric fields.
const (
	MaxAmount = 9_999_999_999   // 振込金額, N(10)
	MaxCount  = 999_999         // 合計件数, N(6)
	MaxTotal  = 999_999_999_999 // 合計金額, N(12)
)

// File is a 総合振込 file: one header, the transfers, and the trailer and
// end records, which are derived from the transfers.
type File struct {
	Header  Header
	Records []Transfer
}

// Total is the sum of the transfers' amounts (the trailer's 合計金額).
func (f *File) Total() int64 {
	var sum int64
	for _, t := range f.Records {
		sum += t.Amount
	}
	return sum
}

// Header is the header record (データ区分 1): who sends the transfers, from
// which account, on which day.
type Header struct {
	Kind          Kind        // 種別コード: "" is written as 21 (総合振込)
	RequesterCode string      // 振込依頼人コード: the bank's code for the requester, up to 10 digits
	RequesterName string      // 振込依頼人名: Zengin kana, up to 40
	Date          MonthDay    // 振込指定日 (取組日): the transfer day
	BankCode      string      // 仕向銀行番号: 4 digits
	BankName      string      // 仕向銀行名: Zengin kana, up to 15, may be empty
	BranchCode    string      // 仕向支店番号: 3 digits
	BranchName    string      // 仕向支店名: Zengin kana, up to 15, may be empty
	AccountType   AccountType // 預金種目(依頼人): 普通, 当座 or その他
	AccountNumber string      // 口座番号(依頼人): up to 7 digits
}

// Transfer is a data record (データ区分 2): one transfer to one payee.
type Transfer struct {
	BankCode      string      // 被仕向銀行番号: 4 digits
	BankName      string      // 被仕向銀行名: Zengin kana, up to 15, may be empty
	BranchCode    string      // 被仕向支店番号: 3 digits
	BranchName    string      // 被仕向支店名: Zengin kana, up to 15, may be empty
	ClearingHouse string      // 手形交換所番号: unused; "" is written as 0000 and 0000 read as ""
	AccountType   AccountType // 預金種目
	AccountNumber string      // 口座番号: up to 7 digits
	PayeeName     string      // 受取人名: Zengin kana, up to 30
	Amount        int64       // 振込金額 in yen, 1..MaxAmount
	NewCode       NewCode     // 新規コード
	CustomerCode1 string      // 顧客コード1: up to 10 digits, "" when unused
	CustomerCode2 string      // 顧客コード2: up to 10 digits, "" when unused
	EDI           string      // EDI情報: Zengin kana, up to 20, in place of the customer codes (識別表示 Y)
	Method        Method      // 振込指定区分
}

// AccountType is a 預金種目.
type AccountType int

// Account types.
const (
	AccountOrdinary AccountType = 1 // 普通預金
	AccountChecking AccountType = 2 // 当座預金
	AccountSavings  AccountType = 4 // 貯蓄預金 (payees only)
	AccountOther    AccountType = 9 // その他
)

// String returns the Japanese name of the account type.
func (a AccountType) String() string {
	switch a {
	case AccountOrdinary:
		return "普通"
	case AccountChecking:
		return "当座"
	case AccountSavings:
		return "貯蓄"
	case AccountOther:
		return "その他"
	}
	return "AccountType(" + strconv.Itoa(int(a)) + ")"
}

// validPayee reports whether a is allowed for a payee (1, 2, 4, 9).
func (a AccountType) validPayee() bool {
	return a == AccountOrdinary || a == AccountChecking || a == AccountSavings || a == AccountOther
}

// validRequester reports whether a is allowed for the requester (1, 2, 9).
func (a AccountType) validRequester() bool {
	return a == AccountOrdinary || a == AccountChecking || a == AccountOther
}

// NewCode is the 新規コード of a transfer.
type NewCode int

// New codes.
const (
	NewCodeOther  NewCode = 0 // その他
	NewCodeFirst  NewCode = 1 // 第1回振込分
	NewCodeChange NewCode = 2 // 変更分
)

// Method is the 振込指定区分 of a transfer.
type Method int

// Methods. MethodUnspecified is written as a space and leaves the choice to
// the bank (telegraphic in practice).
const (
	MethodUnspecified Method = 0 // (space)
	MethodTelegraphic Method = 7 // 電信扱
	MethodDocument    Method = 8 // 文書扱
)

// MonthDay is a date without a year (MMDD), as in the header.
type MonthDay struct {
	Month time.Month
	Day   int
}

// DateOf returns the month and day of t.
func DateOf(t time.Time) MonthDay {
	return MonthDay{Month: t.Month(), Day: t.Day()}
}

// Valid reports whether d is a day of some year (29 February included).
func (d MonthDay) Valid() bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	// 2000 is a leap year, so February has 29 days.
	return d.Day <= time.Date(2000, d.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String returns d as MMDD.
func (d MonthDay) String() string {
	return pad2(int(d.Month)) + pad2(d.Day)
}

// pad2 formats n with at least two digits.
func pad2(n int) string {
	if n >= 0 && n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
