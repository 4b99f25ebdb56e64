package zengin

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestNormalizeKana(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"hiragana", "やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"},
		{"full-width katakana", "ヤマダ　タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"},
		{"voiced and semi-voiced", "ガギグゲゴ ザジズゼゾ ダヂヅデド バビブベボ パピプペポ", "ｶﾞｷﾞｸﾞｹﾞｺﾞ ｻﾞｼﾞｽﾞｾﾞｿﾞ ﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞ ﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"},
		{"vu", "ヴァイオリン ゔ", "ｳﾞｱｲｵﾘﾝ ｳﾞ"},
		{"small kana to large", "キャッシュ ショップ ァィゥェォ ヮヵヶ", "ｷﾔﾂｼﾕ ｼﾖﾂﾌﾟ ｱｲｳｴｵ ﾜｶｹ"},
		{"small hiragana", "きゃっぷ", "ｷﾔﾂﾌﾟ"},
		{"half-width small kana", "ｷｬｯﾌﾟ", "ｷﾔﾂﾌﾟ"},
		{"half-width stays", "ｶ)ﾔﾏﾀﾞ", "ｶ)ﾔﾏﾀﾞ"},
		{"wi we wo", "ヰヱヲ ゐゑを ｦ", "ｲｴｵ ｲｴｵ ｵ"},
		{"long vowel mark", "コーポ ｺｰﾎﾟ", "ｺ-ﾎﾟ ｺ-ﾎﾟ"},
		{"full-width digits and letters", "ＡＢＣ１２３ｘｙｚ", "ABC123XYZ"},
		{"lowercase", "abc Kinko", "ABC KINKO"},
		{"full-width symbols", "（カ）．－／，", "(ｶ).-/,"},
		{"yen and brackets", "￥¥\\「」｢｣", "¥¥¥｢｣｢｣"},
		{"combining marks", "カ\u3099ハ\u309A", "ｶﾞﾊﾟ"},
		{"spacing marks", "カ゛ハ゜", "ｶﾞﾊﾟ"},
		{"dashes", "A‐B−C–D", "A-B-C-D"},
		{"spaces at both ends", "　 ヤマダ ", "ﾔﾏﾀﾞ"},
		{"space inside kept", "ヤマダ  タロウ", "ﾔﾏﾀﾞ  ﾀﾛｳ"},
		{"abbreviation", "カ）ロウキンショウジ", "ｶ)ﾛｳｷﾝｼﾖｳｼﾞ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeKana(tt.in)
			if err != nil {
				t.Fatalf("NormalizeKana(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeKana(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err := ValidKana(got); err != nil {
				t.Errorf("ValidKana(%q): %v", got, err)
			}
			again, err := NormalizeKana(got)
			if err != nil || again != got {
				t.Errorf("NormalizeKana is not idempotent: %q -> %q, %v", got, again, err)
			}
		})
	}
}

func TestNormalizeKanaRefused(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *KanaError
	}{
		{"kanji", "ヤマダ太郎", &KanaError{Err: ErrInvalidCharacter, Char: '太', Pos: 4}},
		{"株式会社 is not abbreviated", "株式会社キンコ", &KanaError{Err: ErrInvalidCharacter, Char: '株', Pos: 1}},
		{"emoji", "ヤマダ😀", &KanaError{Err: ErrInvalidCharacter, Char: '😀', Pos: 4}},
		{"middle dot", "ヤマダ・タロウ", &KanaError{Err: ErrInvalidCharacter, Char: '・', Pos: 4}},
		{"half-width middle dot", "ﾔﾏﾀﾞ･ﾀﾛｳ", &KanaError{Err: ErrInvalidCharacter, Char: '･', Pos: 5}},
		{"at sign", "A@B", &KanaError{Err: ErrInvalidCharacter, Char: '@', Pos: 2}},
		{"tilde", "A~B", &KanaError{Err: ErrInvalidCharacter, Char: '~', Pos: 2}},
		{"tab", "A\tB", &KanaError{Err: ErrInvalidCharacter, Char: '\t', Pos: 2}},
		{"iteration mark", "サヽキ", &KanaError{Err: ErrInvalidCharacter, Char: 'ヽ', Pos: 2}},
		{"ideographic full stop", "ヤマダ。", &KanaError{Err: ErrInvalidCharacter, Char: '。', Pos: 4}},
		{"invalid UTF-8", "ﾔﾏ\xffﾀﾞ", &KanaError{Err: ErrInvalidCharacter, Char: '\uFFFD', Pos: 3}},
		{"empty", "", &KanaError{Err: ErrEmptyName}},
		{"spaces only", " 　 ", &KanaError{Err: ErrEmptyName}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeKana(tt.in)
			var ke *KanaError
			if !errors.As(err, &ke) {
				t.Fatalf("NormalizeKana(%q) = %q, %v; want a KanaError", tt.in, got, err)
			}
			if *ke != *tt.want {
				t.Errorf("NormalizeKana(%q) error = %+v, want %+v", tt.in, *ke, *tt.want)
			}
			if !errors.Is(err, tt.want.Err) {
				t.Errorf("error does not wrap %v", tt.want.Err)
			}
			if got != "" {
				t.Errorf("NormalizeKana returned %q with an error", got)
			}
		})
	}
}

func TestKanaErrorMessages(t *testing.T) {
	tests := []struct {
		name   string
		err    *KanaError
		ja, en string
	}{
		{"kanji", &KanaError{Err: ErrInvalidCharacter, Char: '太', Pos: 4},
			"4文字目の「太」は振込の名義に使えません。漢字は使えません。読みをカナで入力してください（株式会社は「カ)」などの略語を使います）。",
			"Character 4, 「太」, cannot be used in a bank transfer name. Kanji cannot be used: enter the reading in kana (companies use abbreviations such as カ) for 株式会社)."},
		{"middle dot", &KanaError{Err: ErrInvalidCharacter, Char: '・', Pos: 2},
			"2文字目の「・」は振込の名義に使えません。中黒の代わりにピリオド「.」かスペースを使ってください。",
			"Character 2, 「・」, cannot be used in a bank transfer name. Use a full stop \".\" or a space instead of the middle dot."},
		{"tab", &KanaError{Err: ErrInvalidCharacter, Char: '\t', Pos: 1},
			"1文字目のU+0009は振込の名義に使えません。使えるのはカナ、英大文字、数字、スペースと記号 ( ) - . / , ¥ 「 」 です。",
			"Character 1, U+0009, cannot be used in a bank transfer name. Use kana, capital letters, digits, spaces and the symbols ( ) - . / , ¥ 「 」 only."},
		{"empty", &KanaError{Err: ErrEmptyName},
			"名前が入力されていません。銀行に届け出たカナの名義を入力してください。",
			"The name is empty. Enter the name in kana as registered at the bank."},
		{"too long", &KanaError{Err: ErrTooLong, Len: 31, Max: 30},
			"名前が31文字あり、30文字までしか入りません（濁点・半濁点も1文字に数えます）。「カ)」（株式会社）などの略語を使って短くしてください。",
			"The name is 31 characters long; at most 30 fit (voiced marks count as one character each). Shorten it, for example with the usual abbreviations such as カ) for 株式会社."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Message("ja"); got != tt.ja {
				t.Errorf("ja =\n%q, want\n%q", got, tt.ja)
			}
			if got := tt.err.Message("en"); got != tt.en {
				t.Errorf("en =\n%q, want\n%q", got, tt.en)
			}
			if !strings.HasPrefix(tt.err.Error(), "zengin: ") {
				t.Errorf("Error() = %q, want the package prefix", tt.err.Error())
			}
		})
	}
}

func TestValidKana(t *testing.T) {
	tests := []struct {
		in   string
		want *KanaError
	}{
		{"ﾔﾏﾀﾞ ﾀﾛｳ", nil},
		{"ｶ)ABC-123.(ﾕ)/,¥｢｣ﾞﾟ", nil},
		{"", &KanaError{Err: ErrEmptyName}},
		{"ﾔﾏﾀﾞｰ", &KanaError{Err: ErrInvalidCharacter, Char: 'ｰ', Pos: 5}},
		{"ｷｬ", &KanaError{Err: ErrInvalidCharacter, Char: 'ｬ', Pos: 2}},
		{"ｦ", &KanaError{Err: ErrInvalidCharacter, Char: 'ｦ', Pos: 1}},
		{"abc", &KanaError{Err: ErrInvalidCharacter, Char: 'a', Pos: 1}},
		{"ヤマダ", &KanaError{Err: ErrInvalidCharacter, Char: 'ヤ', Pos: 1}},
		{"A\\B", &KanaError{Err: ErrInvalidCharacter, Char: '\\', Pos: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := ValidKana(tt.in)
			if tt.want == nil {
				if err != nil {
					t.Errorf("ValidKana(%q) = %v", tt.in, err)
				}
				return
			}
			var ke *KanaError
			if !errors.As(err, &ke) || *ke != *tt.want {
				t.Errorf("ValidKana(%q) = %v, want %+v", tt.in, err, *tt.want)
			}
		})
	}
}

func TestWidth(t *testing.T) {
	name := "ｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞｶﾞ" // 15 kana, 30 bytes with the marks
	if got := Width(name); got != 30 {
		t.Errorf("Width = %d, want 30", got)
	}
	if err := CheckWidth(name, PayeeNameWidth); err != nil {
		t.Errorf("CheckWidth(30 bytes, 30) = %v", err)
	}
	err := CheckWidth(name+"ｱ", PayeeNameWidth)
	var ke *KanaError
	if !errors.As(err, &ke) || *ke != (KanaError{Err: ErrTooLong, Len: 31, Max: 30}) || !errors.Is(err, ErrTooLong) {
		t.Errorf("CheckWidth(31 bytes, 30) = %v", err)
	}
}

func TestSJIS(t *testing.T) {
	// Every byte of JIS X 0201 round-trips; the decoder agrees with
	// golang.org/x/text except at 0x5C and 0x7E, which JIS X 0201 has as
	// ¥ and ‾.
	var all []byte
	for c := 0x20; c <= 0x7E; c++ {
		all = append(all, byte(c))
	}
	for c := 0xA1; c <= 0xDF; c++ {
		all = append(all, byte(c))
	}
	s, err := DecodeSJIS(all)
	if err != nil {
		t.Fatal(err)
	}
	back, err := EncodeSJIS(s)
	if err != nil || string(back) != string(all) {
		t.Fatalf("EncodeSJIS(DecodeSJIS(x)) = %x, %v; want %x", back, err, all)
	}
	for _, c := range all {
		ours, _ := DecodeSJIS([]byte{c})
		theirs, _ := japanese.ShiftJIS.NewDecoder().Bytes([]byte{c})
		switch c {
		case 0x5C:
			if ours != "¥" {
				t.Errorf("0x5C decodes to %q, want ¥", ours)
			}
		case 0x7E:
			if ours != "‾" {
				t.Errorf("0x7E decodes to %q, want ‾", ours)
			}
		default:
			if ours != string(theirs) {
				t.Errorf("0x%02X decodes to %q, x/text says %q", c, ours, theirs)
			}
		}
	}

	for _, b := range [][]byte{{0x00}, {0x0D}, {0x1A}, {0x7F}, {0x80}, {0xA0}, {0xE0}, {0x88, 0x9F}, {0xFF}} {
		if _, err := DecodeSJIS(append([]byte("AB"), b...)); !errors.Is(err, ErrInvalidCharacter) {
			t.Errorf("DecodeSJIS(% X) = %v, want ErrInvalidCharacter", b, err)
		}
	}
	for _, s := range []string{"漢", "ア", "\\", "~", "\t", "é", "\xff"} {
		_, err := EncodeSJIS("ｱ" + s)
		var ke *KanaError
		if !errors.As(err, &ke) || ke.Pos != 2 {
			t.Errorf("EncodeSJIS(%q) = %v, want a KanaError at position 2", "ｱ"+s, err)
		}
	}
}
