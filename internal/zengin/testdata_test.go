package zengin

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// The files in testdata/ are made here, field by field, from the 全銀協
// layout as written in docs/zengin.md, with the Shift_JIS encoder of
// golang.org/x/text rather than this package's own, so that Parse and
// Write are checked against bytes they did not make. Run
//
//	go test ./internal/zengin/ -run TestTestdataFiles -update
//
// after changing a file here; the test fails when a file differs.
var update = flag.Bool("update", false, "rewrite the files in testdata/")

// sjis encodes s with golang.org/x/text. In Shift_JIS as x/text has it,
// 0x5C is a backslash: write "\\" where a Zengin file has ¥.
func sjis(t *testing.T, s string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

// c is a text (C) field: left-aligned, space-filled to n bytes.
func c(t *testing.T, s string, n int) string {
	t.Helper()
	b := sjis(t, s)
	if len(b) > n {
		t.Fatalf("%q is %d bytes, more than %d", s, len(b), n)
	}
	return string(b) + strings.Repeat(" ", n-len(b))
}

// sp is n spaces (ダミー, or a blank field).
func sp(n int) string { return strings.Repeat(" ", n) }

// rec joins fields into one record, which must be exactly 120 bytes.
func rec(t *testing.T, fields ...string) string {
	t.Helper()
	r := strings.Join(fields, "")
	if len(r) != 120 {
		t.Fatalf("record is %d bytes, want 120: %q", len(r), r)
	}
	return r
}

// The records of the valid file: a union sends three transfers, to an
// ordinary, a checking and a savings account, with voiced and semi-voiced
// marks, symbols, customer codes and EDI information.
func validHeader(t *testing.T) string {
	return rec(t,
		"1",          // データ区分
		"21",         // 種別コード: 総合振込
		"0",          // コード区分: JIS
		"0000012345", // 振込依頼人コード
		c(t, "ｶﾝﾄｳｺｳﾂｳﾛｳﾄﾞｳｸﾐｱｲ", 40), // 振込依頼人名
		"0415",                // 振込指定日: 15 April
		"2963",                // 仕向銀行番号
		c(t, "ﾁﾕｳｵｳﾛｳｷﾝ", 15), // 仕向銀行名
		"101",                 // 仕向支店番号
		c(t, "ﾎﾝﾃﾝ", 15),      // 仕向支店名
		"1",                   // 預金種目(依頼人): 普通
		"1234567",             // 口座番号(依頼人)
		sp(17),                // ダミー
	)
}

func validData1(t *testing.T) string {
	return rec(t,
		"2",              // データ区分
		"0001",           // 被仕向銀行番号
		c(t, "ﾐｽﾞﾎ", 15), // 被仕向銀行名
		"110",            // 被仕向支店番号
		c(t, "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ", 15), // 被仕向支店名
		"0000",               // 手形交換所番号
		"1",                  // 預金種目: 普通
		"0012345",            // 口座番号
		c(t, "ﾔﾏﾀﾞ ﾀﾛｳ", 30), // 受取人名
		"0000050000",         // 振込金額
		"0",                  // 新規コード
		"0000000001",         // 顧客コード1
		"0000000002",         // 顧客コード2
		"7",                  // 振込指定区分: 電信
		" ",                  // 識別表示
		sp(7),                // ダミー
	)
}

func validData2(t *testing.T) string {
	return rec(t,
		"2",
		"2963",
		c(t, "ﾁﾕｳｵｳﾛｳｷﾝ", 15),
		"205",
		c(t, "ｼﾝｼﾞﾕｸ", 15),
		"0000",
		"2", // 当座
		"7654321",
		c(t, "ｶ)ﾊﾟｲｵﾆｱ.ﾌﾞﾂﾘﾕｳ", 30),
		"0001234567",
		"1", // 第1回振込分
		"0000000000",
		"0000000000",
		" ", // 振込指定区分: unspecified
		" ",
		sp(7),
	)
}

func validData3(t *testing.T) string {
	return rec(t,
		"2",
		"0009",
		c(t, "ﾐﾂｲｽﾐﾄﾓ", 15),
		"001",
		sp(15), // 被仕向支店名: blank
		"0000",
		"4", // 貯蓄
		"0000777",
		c(t, "ｻﾄｳ ｼﾞﾕﾝｲﾁﾛｳ", 30),
		"0000003000",
		"2",                              // 変更分
		c(t, "｢INV\\2026/04,NO.12｣", 20), // EDI情報 (\ is ¥)
		"8",                              // 振込指定区分: 文書
		"Y",                              // 識別表示: EDI
		sp(7),
	)
}

func trailerRec(t *testing.T, count, total string) string {
	return rec(t, "8", count, total, sp(101))
}

func endRec(t *testing.T) string { return rec(t, "9", sp(119)) }

// validRecords are the records of the valid file.
func validRecords(t *testing.T) []string {
	return []string{validHeader(t), validData1(t), validData2(t), validData3(t),
		trailerRec(t, "000003", "000001287567"), endRec(t)}
}

// wantValid is the valid file as Parse must return it, every field.
var wantValid = &File{
	Header: Header{
		Kind:          KindGeneral,
		RequesterCode: "0000012345",
		RequesterName: "ｶﾝﾄｳｺｳﾂｳﾛｳﾄﾞｳｸﾐｱｲ",
		Date:          MonthDay{Month: 4, Day: 15},
		BankCode:      "2963",
		BankName:      "ﾁﾕｳｵｳﾛｳｷﾝ",
		BranchCode:    "101",
		BranchName:    "ﾎﾝﾃﾝ",
		AccountType:   AccountOrdinary,
		AccountNumber: "1234567",
	},
	Records: []Transfer{
		{
			BankCode:      "0001",
			BankName:      "ﾐｽﾞﾎ",
			BranchCode:    "110",
			BranchName:    "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ",
			AccountType:   AccountOrdinary,
			AccountNumber: "0012345",
			PayeeName:     "ﾔﾏﾀﾞ ﾀﾛｳ",
			Amount:        50000,
			NewCode:       NewCodeOther,
			CustomerCode1: "0000000001",
			CustomerCode2: "0000000002",
			Method:        MethodTelegraphic,
		},
		{
			BankCode:      "2963",
			BankName:      "ﾁﾕｳｵｳﾛｳｷﾝ",
			BranchCode:    "205",
			BranchName:    "ｼﾝｼﾞﾕｸ",
			AccountType:   AccountChecking,
			AccountNumber: "7654321",
			PayeeName:     "ｶ)ﾊﾟｲｵﾆｱ.ﾌﾞﾂﾘﾕｳ",
			Amount:        1234567,
			NewCode:       NewCodeFirst,
			Method:        MethodUnspecified,
		},
		{
			BankCode:      "0009",
			BankName:      "ﾐﾂｲｽﾐﾄﾓ",
			BranchCode:    "001",
			AccountType:   AccountSavings,
			AccountNumber: "0000777",
			PayeeName:     "ｻﾄｳ ｼﾞﾕﾝｲﾁﾛｳ",
			Amount:        3000,
			NewCode:       NewCodeChange,
			EDI:           "｢INV¥2026/04,NO.12｣",
			Method:        MethodDocument,
		},
	},
}

// join puts records together with sep after each.
func join(recs []string, sep string) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r + sep)
	}
	return b.String()
}

// testdataFiles are the files of testdata/ and their contents.
func testdataFiles(t *testing.T) map[string]string {
	v := validRecords(t)
	h, d1, d2, d3, tr, end := v[0], v[1], v[2], v[3], v[4], v[5]
	files := map[string]string{
		"valid_nosep.dat":    join(v, ""),
		"valid_crlf.dat":     join(v, "\r\n"),
		"valid_crlf_eof.dat": join(v, "\r\n") + "\x1a",
		"valid_lf.dat":       join(v, "\n"),
		// 合計件数 says 4 for 3 data records.
		"invalid_count.dat": join([]string{h, d1, d2, d3, trailerRec(t, "000004", "000001287567"), end}, "\r\n"),
		// 合計金額 is 1 yen short.
		"invalid_total.dat": join([]string{h, d1, d2, d3, trailerRec(t, "000003", "000001287566"), end}, "\r\n"),
		// The third data record lacks its last byte.
		"invalid_short.dat": join([]string{h, d1, d2, d3[:119], tr, end}, "\r\n"),
		// A data record before the header.
		"invalid_order.dat": join([]string{d1, h, d2, trailerRec(t, "000002", "000001284567"), end}, "\r\n"),
	}

	// Characters outside the Zengin set: kanji (two-byte Shift_JIS), a
	// small kana, lowercase letters and the long vowel mark.
	kanaH := rec(t, "1", "21", "0", "0000012345", c(t, "ｺｰﾌﾟ ｸﾐｱｲ", 40), "0415", "2963",
		c(t, "ﾁﾕｳｵｳﾛｳｷﾝ", 15), "101", c(t, "ﾎﾝﾃﾝ", 15), "1", "1234567", sp(17))
	kanaD1 := rec(t, "2", "0001", c(t, "mizuho", 15), "110", c(t, "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ", 15), "0000", "1", "0012345",
		c(t, "山田ﾀﾛｳ", 30), "0000050000", "0", "0000000001", "0000000002", "7", " ", sp(7))
	kanaD2 := rec(t, "2", "2963", c(t, "ﾁﾕｳｵｳﾛｳｷﾝ", 15), "205", c(t, "ｼﾝｼﾞﾕｸ", 15), "0000", "2", "7654321",
		c(t, "ｷｬﾂﾌﾟ ｼﾖｳｼﾞ", 30), "0001234567", "1", "0000000000", "0000000000", " ", " ", sp(7))
	files["invalid_kana.dat"] = join([]string{kanaH, kanaD1, kanaD2, d3, tr, end}, "\r\n")

	// One wrong value in almost every kind of field.
	fieldsH := rec(t, "1", "91", "1", "00000A2345", c(t, "ｶﾝﾄｳｺｳﾂｳﾛｳﾄﾞｳｸﾐｱｲ", 40), "0230", "2963",
		c(t, "ﾁﾕｳｵｳﾛｳｷﾝ", 15), "101", c(t, "ﾎﾝﾃﾝ", 15), "4", "1234567", sp(16)+"X")
	fieldsD1 := rec(t, "2", "0001", c(t, "ﾐｽﾞﾎ", 15), "110", sp(15), "0000", "3", "0012345",
		sp(30), "00000A0000", "3", "0000000001", "0000000002", "9", "N", sp(7))
	fieldsD2 := rec(t, "2", "2963", sp(15), "205", sp(15), "0000", "1", "7654321",
		c(t, "ｽｽﾞｷ", 30), "0000000000", "0", "0000000000", "0000000000", "7", " ", sp(7))
	files["invalid_fields.dat"] = join([]string{fieldsH, fieldsD1, fieldsD2, "5" + sp(119),
		trailerRec(t, "000002", "000000000000"), endRec(t)}, "\r\n")
	return files
}

// TestTestdataFiles checks that testdata/ holds what testdataFiles makes
// (or rewrites it with -update).
func TestTestdataFiles(t *testing.T) {
	for name, want := range testdataFiles(t) {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to make it)", err)
		}
		if !bytes.Equal(got, []byte(want)) {
			t.Errorf("%s differs from testdataFiles (run with -update)", path)
		}
	}
}

// readTestdata returns a file of testdata/.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
