package zengin

// kind is the type of a field in the format: N (digits, right-aligned,
// zero-filled) or C (Zengin characters, left-aligned, space-filled). A
// dummy is a C field that must hold spaces only.
type kind int

const (
	kindN kind = iota + 1
	kindC
	kindDummy
)

// field is one field of a record layout.
type field struct {
	name  string // Japanese name, as in the 全銀協 layout
	en    string // English name, for messages
	width int    // bytes
	kind  kind
}

// Record divisions (データ区分).
const (
	divHeader  = '1'
	divData    = '2'
	divTrailer = '8'
	divEnd     = '9'
)

// Names of the records, for messages.
var recordNames = map[byte][2]string{
	divHeader:  {"ヘッダー・レコード", "header record"},
	divData:    {"データ・レコード", "data record"},
	divTrailer: {"トレーラー・レコード", "trailer record"},
	divEnd:     {"エンド・レコード", "end record"},
}

// Header record fields, in order.
const (
	hDivision = iota
	hTypeCode
	hCodeDivision
	hRequesterCode
	hRequesterName
	hDate
	hBankCode
	hBankName
	hBranchCode
	hBranchName
	hAccountType
	hAccountNumber
	hDummy
	hCount
)

// headerLayout is the header record (データ区分 1).
var headerLayout = [hCount]field{
	hDivision:      {"データ区分", "data division", 1, kindN},
	hTypeCode:      {"種別コード", "type code", 2, kindN},
	hCodeDivision:  {"コード区分", "code division", 1, kindN},
	hRequesterCode: {"振込依頼人コード", "requester code", 10, kindN},
	hRequesterName: {"振込依頼人名", "requester name", RequesterNameWidth, kindC},
	hDate:          {"振込指定日", "transfer date", 4, kindN},
	hBankCode:      {"仕向銀行番号", "sending bank code", 4, kindN},
	hBankName:      {"仕向銀行名", "sending bank name", BankNameWidth, kindC},
	hBranchCode:    {"仕向支店番号", "sending branch code", 3, kindN},
	hBranchName:    {"仕向支店名", "sending branch name", BranchNameWidth, kindC},
	hAccountType:   {"預金種目(依頼人)", "requester account type", 1, kindN},
	hAccountNumber: {"口座番号(依頼人)", "requester account number", 7, kindN},
	hDummy:         {"ダミー", "filler", 17, kindDummy},
}

// Data record fields, in order.
const (
	dDivision = iota
	dBankCode
	dBankName
	dBranchCode
	dBranchName
	dClearingHouse
	dAccountType
	dAccountNumber
	dPayeeName
	dAmount
	dNewCode
	dCustomerCode1
	dCustomerCode2
	dMethod
	dIdentification
	dDummy
	dCount
)

// dataLayout is the data record (データ区分 2). With 識別表示 Y, the 20
// bytes of 顧客コード1 and 顧客コード2 hold EDI情報 instead (ediField).
var dataLayout = [dCount]field{
	dDivision:       {"データ区分", "data division", 1, kindN},
	dBankCode:       {"被仕向銀行番号", "bank code", 4, kindN},
	dBankName:       {"被仕向銀行名", "bank name", BankNameWidth, kindC},
	dBranchCode:     {"被仕向支店番号", "branch code", 3, kindN},
	dBranchName:     {"被仕向支店名", "branch name", BranchNameWidth, kindC},
	dClearingHouse:  {"手形交換所番号", "clearing house number", 4, kindN},
	dAccountType:    {"預金種目", "account type", 1, kindN},
	dAccountNumber:  {"口座番号", "account number", 7, kindN},
	dPayeeName:      {"受取人名", "payee name", PayeeNameWidth, kindC},
	dAmount:         {"振込金額", "amount", 10, kindN},
	dNewCode:        {"新規コード", "new code", 1, kindN},
	dCustomerCode1:  {"顧客コード1", "customer code 1", 10, kindN},
	dCustomerCode2:  {"顧客コード2", "customer code 2", 10, kindN},
	dMethod:         {"振込指定区分", "transfer method", 1, kindN},
	dIdentification: {"識別表示", "identification", 1, kindC},
	dDummy:          {"ダミー", "filler", 7, kindDummy},
}

// ediField is EDI情報, which takes the place of 顧客コード1 and 顧客コード2
// when 識別表示 is Y.
var ediField = field{"EDI情報", "EDI information", EDIWidth, kindC}

// Trailer record fields, in order.
const (
	tDivision = iota
	tCount
	tTotal
	tDummy
	tFields
)

// trailerLayout is the trailer record (データ区分 8).
var trailerLayout = [tFields]field{
	tDivision: {"データ区分", "data division", 1, kindN},
	tCount:    {"合計件数", "total count", 6, kindN},
	tTotal:    {"合計金額", "total amount", 12, kindN},
	tDummy:    {"ダミー", "filler", 101, kindDummy},
}

// End record fields, in order.
const (
	eDivision = iota
	eDummy
	eFields
)

// endLayout is the end record (データ区分 9).
var endLayout = [eFields]field{
	eDivision: {"データ区分", "data division", 1, kindN},
	eDummy:    {"ダミー", "filler", 119, kindDummy},
}

// recordField names a whole record in an error about the record (its
// length, its place in the file).
var recordField = field{"レコード", "record", RecordLen, kindC}

// divisionField is the データ区分 of any record.
var divisionField = headerLayout[hDivision]

// split cuts a record of RecordLen bytes into its fields. The caller
// checks the length first; fields past the end of a shorter record are
// left nil.
func split(rec []byte, layout []field) [][]byte {
	out := make([][]byte, len(layout))
	pos := 0
	for i, f := range layout {
		if pos+f.width > len(rec) {
			break
		}
		out[i] = rec[pos : pos+f.width]
		pos += f.width
	}
	return out
}
