package zengin

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWriteMatchesHandmade checks Write byte for byte against the files
// made field by field in testdata_test.go.
func TestWriteMatchesHandmade(t *testing.T) {
	tests := []struct {
		file string
		opts WriteOptions
	}{
		{"valid_nosep.dat", WriteOptions{}},
		{"valid_crlf.dat", WriteOptions{CRLF: true}},
		{"valid_crlf_eof.dat", WriteOptions{CRLF: true, EOF: true}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, wantValid, tt.opts); err != nil {
				t.Fatal(err)
			}
			want := readTestdata(t, tt.file)
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("Write differs from %s:\n got %q\nwant %q", tt.file, b.Bytes(), want)
			}
		})
	}
}

func TestWriteParseRoundTrip(t *testing.T) {
	f := &File{
		Header: Header{
			RequesterCode: "42",
			RequesterName: "ﾛｳｷﾝ ｼﾖｸｲﾝ ｸﾐｱｲ",
			Date:          MonthDay{Month: 2, Day: 29},
			BankCode:      "2963",
			BranchCode:    "5",
			AccountType:   AccountChecking,
			AccountNumber: "1",
		},
	}
	for i := range 25 {
		f.Records = append(f.Records, Transfer{
			BankCode:      "0005",
			BankName:      "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ",
			BranchCode:    "001",
			AccountType:   []AccountType{AccountOrdinary, AccountChecking, AccountSavings, AccountOther}[i%4],
			AccountNumber: "0000123",
			PayeeName:     strings.Repeat("ｶﾞ", 15),
			Amount:        int64(i+1) * 1_000_000_007 % MaxAmount,
			NewCode:       NewCode(i % 3),
			CustomerCode1: []string{"", "0000000123"}[i%2],
			Method:        []Method{MethodUnspecified, MethodTelegraphic, MethodDocument}[i%3],
		})
	}
	f.Records[7].CustomerCode1 = ""
	f.Records[7].EDI = "ABCDEFGHIJ¥｢｣0123456"
	f.Records[9].ClearingHouse = "0123"
	for _, opts := range []WriteOptions{{}, {CRLF: true}, {EOF: true}, {CRLF: true, EOF: true}} {
		var b bytes.Buffer
		if err := Write(&b, f, opts); err != nil {
			t.Fatal(err)
		}
		recSize := 120
		if opts.CRLF {
			recSize = 122
		}
		wantLen := 28 * recSize
		if opts.EOF {
			wantLen++
		}
		if b.Len() != wantLen {
			t.Errorf("%+v: %d bytes, want %d", opts, b.Len(), wantLen)
		}
		got, err := Parse(&b)
		if err != nil {
			t.Fatalf("%+v: Parse: %v", opts, err)
		}
		want := *f
		want.Header.Kind = KindGeneral
		want.Header.RequesterCode = "0000000042"
		want.Header.BranchCode = "005"
		want.Header.AccountNumber = "0000001"
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("%+v: round trip (-want +got):\n%s", opts, diff)
		}
	}
}

func TestWriteRefuses(t *testing.T) {
	valid := func() *File {
		f := *wantValid
		f.Records = append([]Transfer(nil), wantValid.Records...)
		return &f
	}
	tests := []struct {
		name   string
		change func(f *File)
		want   ErrorList
	}{
		{"payee name too long", func(f *File) { f.Records[0].PayeeName = strings.Repeat("ｱ", 31) },
			ErrorList{{Line: 2, Field: "受取人名", Code: CodeTooLong, Value: strings.Repeat("ｱ", 31), Expected: "30"}}},
		{"payee name not normalized", func(f *File) { f.Records[0].PayeeName = "ヤマダ" },
			ErrorList{{Line: 2, Field: "受取人名", Code: CodeInvalidCharacter, Value: "ヤ"}}},
		{"small kana", func(f *File) { f.Records[1].PayeeName = "ｷｬﾂﾌﾟ" },
			ErrorList{{Line: 3, Field: "受取人名", Code: CodeInvalidCharacter, Value: "ｬ"}}},
		{"payee name empty", func(f *File) { f.Records[0].PayeeName = "" },
			ErrorList{{Line: 2, Field: "受取人名", Code: CodeRequired}}},
		{"requester name lowercase", func(f *File) { f.Header.RequesterName = "kinko" },
			ErrorList{{Line: 1, Field: "振込依頼人名", Code: CodeInvalidCharacter, Value: "k"}}},
		{"bank code too long", func(f *File) { f.Records[2].BankCode = "12345" },
			ErrorList{{Line: 4, Field: "被仕向銀行番号", Code: CodeTooLong, Value: "12345", Expected: "4"}}},
		{"branch code not numeric", func(f *File) { f.Records[2].BranchCode = "1a" },
			ErrorList{{Line: 4, Field: "被仕向支店番号", Code: CodeNotNumeric, Value: "1a"}}},
		{"requester code missing", func(f *File) { f.Header.RequesterCode = "" },
			ErrorList{{Line: 1, Field: "振込依頼人コード", Code: CodeRequired}}},
		{"zero amount", func(f *File) { f.Records[0].Amount = 0 },
			ErrorList{{Line: 2, Field: "振込金額", Code: CodeZeroAmount, Value: "0"}}},
		{"negative amount", func(f *File) { f.Records[0].Amount = -5 },
			ErrorList{{Line: 2, Field: "振込金額", Code: CodeInvalidAmount, Value: "-5"}}},
		{"amount too large", func(f *File) { f.Records[0].Amount = MaxAmount + 1 },
			ErrorList{{Line: 2, Field: "振込金額", Code: CodeTooLong, Value: "10000000000", Expected: "10"}}},
		{"savings account of the requester", func(f *File) { f.Header.AccountType = AccountSavings },
			ErrorList{{Line: 1, Field: "預金種目(依頼人)", Code: CodeInvalidValue, Value: "4", Expected: "1 普通, 2 当座, 9 その他"}}},
		{"unknown payee account type", func(f *File) { f.Records[0].AccountType = 3 },
			ErrorList{{Line: 2, Field: "預金種目", Code: CodeInvalidValue, Value: "3", Expected: "1 普通, 2 当座, 4 貯蓄, 9 その他"}}},
		{"unknown new code", func(f *File) { f.Records[0].NewCode = 5 },
			ErrorList{{Line: 2, Field: "新規コード", Code: CodeInvalidValue, Value: "5", Expected: "0, 1, 2"}}},
		{"unknown method", func(f *File) { f.Records[0].Method = 3 },
			ErrorList{{Line: 2, Field: "振込指定区分", Code: CodeInvalidValue, Value: "3", Expected: "0 (スペース, space), 7, 8"}}},
		{"EDI with customer codes", func(f *File) { f.Records[0].EDI = "ABC" },
			ErrorList{{Line: 2, Field: "顧客コード1", Code: CodeEDIConflict}}},
		{"EDI too long", func(f *File) { f.Records[2].EDI = strings.Repeat("A", 21) },
			ErrorList{{Line: 4, Field: "EDI情報", Code: CodeTooLong, Value: strings.Repeat("A", 21), Expected: "20"}}},
		{"invalid date", func(f *File) { f.Header.Date = MonthDay{Month: 4, Day: 31} },
			ErrorList{{Line: 1, Field: "振込指定日", Code: CodeInvalidDate, Value: "0431"}}},
		{"no transfers", func(f *File) { f.Records = nil },
			ErrorList{{Line: 2, Field: "データ・レコード", Code: CodeMissingRecord}}},
		{"several problems at once", func(f *File) {
			f.Header.BankName = "ろうきん"
			f.Records[1].AccountNumber = "12345678"
			f.Records[2].Amount = 0
		}, ErrorList{
			{Line: 1, Field: "仕向銀行名", Code: CodeInvalidCharacter, Value: "ろ"},
			{Line: 3, Field: "口座番号", Code: CodeTooLong, Value: "12345678", Expected: "7"},
			{Line: 4, Field: "振込金額", Code: CodeZeroAmount, Value: "0"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := valid()
			tt.change(f)
			var b bytes.Buffer
			err := Write(&b, f, WriteOptions{CRLF: true})
			var got ErrorList
			if !errors.As(err, &got) {
				t.Fatalf("Write error = %v, want an ErrorList", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if b.Len() != 0 {
				t.Errorf("Write wrote %d bytes despite errors", b.Len())
			}
		})
	}
}

func TestWriteTotalTooLarge(t *testing.T) {
	f := &File{Header: wantValid.Header}
	for range 101 { // 101 × 9,999,999,999 > 999,999,999,999
		f.Records = append(f.Records, Transfer{BankCode: "0001", BranchCode: "001", AccountType: AccountOrdinary,
			AccountNumber: "1", PayeeName: "ｱ", Amount: MaxAmount})
	}
	err := Write(&bytes.Buffer{}, f, WriteOptions{})
	want := ErrorList{{Line: 103, Field: "合計金額", Code: CodeTooLong, Value: "> 999999999999", Expected: "12"}}
	var got ErrorList
	if !errors.As(err, &got) {
		t.Fatalf("Write error = %v, want an ErrorList", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// 100 of them fit.
	f.Records = f.Records[:100]
	if err := Write(&bytes.Buffer{}, f, WriteOptions{}); err != nil {
		t.Errorf("100 × MaxAmount: %v", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteErrors(t *testing.T) {
	if err := Write(&bytes.Buffer{}, nil, WriteOptions{}); !errors.Is(err, ErrNoFile) {
		t.Errorf("Write(nil) = %v, want ErrNoFile", err)
	}
	boom := errors.New("disk full")
	if err := Write(failingWriter{boom}, wantValid, WriteOptions{}); !errors.Is(err, boom) {
		t.Errorf("Write to a failing writer = %v, want it to wrap %v", err, boom)
	}
}

func TestMonthDay(t *testing.T) {
	tests := []struct {
		d     MonthDay
		valid bool
		s     string
	}{
		{MonthDay{1, 1}, true, "0101"},
		{MonthDay{2, 29}, true, "0229"},
		{MonthDay{2, 30}, false, "0230"},
		{MonthDay{4, 31}, false, "0431"},
		{MonthDay{12, 31}, true, "1231"},
		{MonthDay{13, 1}, false, "1301"},
		{MonthDay{0, 1}, false, "0001"},
		{MonthDay{1, 0}, false, "0100"},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := tt.d.Valid(); got != tt.valid {
				t.Errorf("Valid() = %v, want %v", got, tt.valid)
			}
			if got := tt.d.String(); got != tt.s {
				t.Errorf("String() = %q, want %q", got, tt.s)
			}
		})
	}
}

func TestAccountTypeString(t *testing.T) {
	for a, want := range map[AccountType]string{AccountOrdinary: "普通", AccountChecking: "当座",
		AccountSavings: "貯蓄", AccountOther: "その他", 3: "AccountType(3)"} {
		if got := a.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(a), got, want)
		}
	}
}

// TestPayrollKindsRoundTrip: 給与振込 (11) and 賞与振込 (12) files share the
// 総合振込 layout; the header's 種別コード says which, and survives a write
// and a parse.
func TestPayrollKindsRoundTrip(t *testing.T) {
	for _, kind := range []Kind{KindSalary, KindBonus, KindGeneral} {
		t.Run(string(kind), func(t *testing.T) {
			f := &File{Header: Header{Kind: kind, RequesterCode: "42", RequesterName: "ｸﾐｱｲ", Date: MonthDay{Month: 4, Day: 25},
				BankCode: "0001", BranchCode: "001", AccountType: AccountOrdinary, AccountNumber: "1234567"},
				Records: []Transfer{{BankCode: "0005", BranchCode: "001", AccountType: AccountOrdinary, AccountNumber: "7654321",
					PayeeName: "ﾔﾏﾀﾞ ﾀﾛｳ", Amount: 250000}}}
			var b bytes.Buffer
			if err := Write(&b, f, WriteOptions{CRLF: true}); err != nil {
				t.Fatal(err)
			}
			if got := b.String()[1:3]; got != string(kind) {
				t.Errorf("種別コード written %q, want %q", got, kind)
			}
			got, err := Parse(&b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Header.Kind != kind || got.Header.Kind.Payroll() != (kind != KindGeneral) {
				t.Errorf("parsed kind %q (payroll %t), want %q", got.Header.Kind, got.Header.Kind.Payroll(), kind)
			}
		})
	}
	bad := &File{Header: Header{Kind: "91", RequesterCode: "42", RequesterName: "ｸﾐｱｲ", Date: MonthDay{Month: 4, Day: 25},
		BankCode: "0001", BranchCode: "001", AccountType: AccountOrdinary, AccountNumber: "1234567"},
		Records: []Transfer{{BankCode: "0005", BranchCode: "001", AccountType: AccountOrdinary, AccountNumber: "1", PayeeName: "ｱ", Amount: 1}}}
	var list ErrorList
	if err := Write(&bytes.Buffer{}, bad, WriteOptions{}); !errors.As(err, &list) || list[0].Code != CodeUnsupportedType {
		t.Errorf("Write of kind 91: %v, want %s", err, CodeUnsupportedType)
	}
}
