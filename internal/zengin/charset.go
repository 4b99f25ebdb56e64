package zengin

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors about names and other kana values (see KanaError).
var (
	ErrEmptyName        = errors.New("zengin: the name is empty")
	ErrInvalidCharacter = errors.New("zengin: character outside the Zengin character set")
	ErrTooLong          = errors.New("zengin: the value does not fit in its field")
)

// KanaError says why a name cannot be used in a Zengin file. It wraps
// ErrEmptyName, ErrInvalidCharacter or ErrTooLong.
type KanaError struct {
	Err  error
	Char rune // ErrInvalidCharacter: the first character that cannot be used
	Pos  int  // ErrInvalidCharacter: its position, counting characters from 1
	Len  int  // ErrTooLong: the width of the value in bytes
	Max  int  // ErrTooLong: the width of the field in bytes
}

// Error describes the problem in English, for logs.
func (e *KanaError) Error() string {
	switch e.Err {
	case ErrInvalidCharacter:
		return fmt.Sprintf("zengin: character %s at position %d is outside the Zengin character set", quoteRune(e.Char), e.Pos)
	case ErrTooLong:
		return fmt.Sprintf("zengin: %d bytes do not fit in a field of %d", e.Len, e.Max)
	}
	return e.Err.Error()
}

// Unwrap returns the sentinel error.
func (e *KanaError) Unwrap() error { return e.Err }

// Message says what happened and what to do, in Japanese ("ja") or English
// ("en"); any other language gets Japanese.
func (e *KanaError) Message(lang string) string {
	en := lang == "en"
	switch e.Err {
	case ErrEmptyName:
		if en {
			return "The name is empty. Enter the name in kana as registered at the bank."
		}
		return "名前が入力されていません。銀行に届け出たカナの名義を入力してください。"
	case ErrTooLong:
		if en {
			return fmt.Sprintf("The name is %d characters long; at most %d fit (voiced marks count as one character each). Shorten it, for example with the usual abbreviations such as カ) for 株式会社.", e.Len, e.Max)
		}
		return fmt.Sprintf("名前が%d文字あり、%d文字までしか入りません（濁点・半濁点も1文字に数えます）。「カ)」（株式会社）などの略語を使って短くしてください。", e.Len, e.Max)
	case ErrInvalidCharacter:
		ja, enMsg := charHint(e.Char)
		if en {
			return fmt.Sprintf("Character %d, %s, cannot be used in a bank transfer name. %s", e.Pos, displayRune(e.Char), enMsg)
		}
		return fmt.Sprintf("%d文字目の%sは振込の名義に使えません。%s", e.Pos, displayRune(e.Char), ja)
	}
	if en {
		return "The name cannot be used."
	}
	return "この名前は使えません。"
}

// charHint says what to do about a character that cannot be used.
func charHint(r rune) (ja, en string) {
	switch {
	case r == '・' || r == '･':
		return "中黒の代わりにピリオド「.」かスペースを使ってください。",
			"Use a full stop \".\" or a space instead of the middle dot."
	case r == 'ー' || r == 'ｰ':
		return "長音「ー」の代わりにハイフン「-」を使ってください。",
			"Use a hyphen \"-\" instead of the long vowel mark."
	case r >= 'ｧ' && r <= 'ｯ', r == 'ｦ':
		large := kana[r]
		return "「" + string(r) + "」の代わりに「" + large + "」を使ってください（振込の名義に小さい文字は使いません）。",
			"Use \"" + large + "\" instead (bank names have no small kana)."
	case r >= 'a' && r <= 'z':
		return "英小文字の代わりに大文字を使ってください。", "Use capital letters instead of lowercase ones."
	case unicode.Is(unicode.Han, r):
		return "漢字は使えません。読みをカナで入力してください（株式会社は「カ)」などの略語を使います）。",
			"Kanji cannot be used: enter the reading in kana (companies use abbreviations such as カ) for 株式会社)."
	}
	return "使えるのはカナ、英大文字、数字、スペースと記号 ( ) - . / , ¥ 「 」 です。",
		"Use kana, capital letters, digits, spaces and the symbols ( ) - . / , ¥ 「 」 only."
}

// displayRune shows r in quotes, with its code point when it cannot be
// seen.
func displayRune(r rune) string {
	if r == utf8.RuneError {
		return "「?」(invalid UTF-8)"
	}
	if !unicode.IsPrint(r) || unicode.IsSpace(r) {
		return fmt.Sprintf("U+%04X", r)
	}
	return "「" + string(r) + "」"
}

// quoteRune shows r for logs.
func quoteRune(r rune) string { return fmt.Sprintf("%q (U+%04X)", r, r) }

// The Zengin character set, as runes after decoding (see DecodeSJIS):
// digits, capital letters, space, ( ) - . / , ¥ ｢ ｣, the kana ｱ..ﾝ and the
// voiced sound marks ﾞ ﾟ. Small kana (ｧ..ｯ), ｦ and the long vowel mark ｰ
// are JIS X 0201 characters but not Zengin ones.
func inSet(r rune) bool {
	switch {
	case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
		return true
	case r >= 'ｱ' && r <= 'ﾟ': // U+FF71..U+FF9F: ｱ..ﾝ ﾞ ﾟ
		return true
	}
	switch r {
	case ' ', '(', ')', '-', '.', '/', ',', '¥', '｢', '｣':
		return true
	}
	return false
}

// ValidKana checks that s is a non-empty string of the Zengin character
// set, as NormalizeKana returns it. It does not check the width.
func ValidKana(s string) error {
	if s == "" {
		return &KanaError{Err: ErrEmptyName}
	}
	pos := 0
	for _, r := range s {
		pos++
		if !inSet(r) {
			return &KanaError{Err: ErrInvalidCharacter, Char: r, Pos: pos}
		}
	}
	return nil
}

// Width is the number of bytes s takes in a Zengin file: one per
// character (a voiced mark is a character of its own).
func Width(s string) int { return utf8.RuneCountInString(s) }

// CheckWidth checks that s fits in a field of n bytes.
func CheckWidth(s string, n int) error {
	if w := Width(s); w > n {
		return &KanaError{Err: ErrTooLong, Len: w, Max: n}
	}
	return nil
}

// NormalizeKana converts a name as a user types it to the Zengin character
// set: hiragana and full-width katakana become half-width katakana with
// the voiced marks split (ガ -> ｶﾞ, パ -> ﾊﾟ, ヴ -> ｳﾞ), small kana become
// large ones (ッ -> ﾂ, ャ -> ﾔ, ァ -> ｱ, as banks register names), ヰ ヱ ヲ
// become ｲ ｴ ｵ, full-width letters, digits and symbols become half-width
// ones, lowercase becomes uppercase, the long vowel mark ー and other
// dashes become "-" (ｰ is not in the set; banks use the hyphen), 「」 and
// ￥ become ｢｣ and ¥, full-width spaces become spaces, and spaces at both
// ends are removed. Anything else (kanji, ・, emoji, ...) is refused with
// the first such character and its position. Words such as 株式会社 are
// not abbreviated: that is for the user to do. The result is not checked
// for width (see CheckWidth).
func NormalizeKana(s string) (string, error) {
	var b strings.Builder
	pos := 0
	for _, r := range s {
		pos++
		out, ok := normalizeRune(r) // invalid UTF-8 arrives as U+FFFD and is refused
		if !ok {
			return "", &KanaError{Err: ErrInvalidCharacter, Char: r, Pos: pos}
		}
		b.WriteString(out)
	}
	n := strings.Trim(b.String(), " ")
	if n == "" {
		return "", &KanaError{Err: ErrEmptyName}
	}
	return n, nil
}

// normalizeRune converts one character, reporting false when it has no
// Zengin form.
func normalizeRune(r rune) (string, bool) {
	switch {
	case r >= 'a' && r <= 'z':
		return string(r - 'a' + 'A'), true
	case inSet(r):
		return string(r), true
	case r >= '！' && r <= '～': // U+FF01..U+FF5E, full-width ASCII
		a := r - '！' + '!'
		if a >= 'a' && a <= 'z' {
			a = a - 'a' + 'A'
		}
		if a == '\\' {
			return "¥", true
		}
		if inSet(a) {
			return string(a), true
		}
		return "", false
	case r >= 'ぁ' && r <= 'ゖ': // U+3041..U+3096, hiragana
		r += 'ァ' - 'ぁ'
	}
	if k, ok := kana[r]; ok {
		return k, true
	}
	switch r {
	case '\\', '￥': // a backslash is the yen sign in JIS X 0201
		return "¥", true
	case '\u3000':
		return " ", true
	case '「':
		return "｢", true
	case '」':
		return "｣", true
	case 'ー', 'ｰ', '‐', '‑', '‒', '–', '−':
		return "-", true
	case '\u3099', '゛': // combining and spacing voiced sound mark
		return "ﾞ", true
	case '\u309A', '゜': // combining and spacing semi-voiced sound mark
		return "ﾟ", true
	}
	return "", false
}

// kana maps full-width katakana and the half-width kana outside the set
// to their Zengin forms.
var kana = map[rune]string{
	'ァ': "ｱ", 'ア': "ｱ", 'ィ': "ｲ", 'イ': "ｲ", 'ゥ': "ｳ", 'ウ': "ｳ", 'ェ': "ｴ", 'エ': "ｴ", 'ォ': "ｵ", 'オ': "ｵ",
	'カ': "ｶ", 'ガ': "ｶﾞ", 'キ': "ｷ", 'ギ': "ｷﾞ", 'ク': "ｸ", 'グ': "ｸﾞ", 'ケ': "ｹ", 'ゲ': "ｹﾞ", 'コ': "ｺ", 'ゴ': "ｺﾞ",
	'サ': "ｻ", 'ザ': "ｻﾞ", 'シ': "ｼ", 'ジ': "ｼﾞ", 'ス': "ｽ", 'ズ': "ｽﾞ", 'セ': "ｾ", 'ゼ': "ｾﾞ", 'ソ': "ｿ", 'ゾ': "ｿﾞ",
	'タ': "ﾀ", 'ダ': "ﾀﾞ", 'チ': "ﾁ", 'ヂ': "ﾁﾞ", 'ッ': "ﾂ", 'ツ': "ﾂ", 'ヅ': "ﾂﾞ", 'テ': "ﾃ", 'デ': "ﾃﾞ", 'ト': "ﾄ", 'ド': "ﾄﾞ",
	'ナ': "ﾅ", 'ニ': "ﾆ", 'ヌ': "ﾇ", 'ネ': "ﾈ", 'ノ': "ﾉ",
	'ハ': "ﾊ", 'バ': "ﾊﾞ", 'パ': "ﾊﾟ", 'ヒ': "ﾋ", 'ビ': "ﾋﾞ", 'ピ': "ﾋﾟ", 'フ': "ﾌ", 'ブ': "ﾌﾞ", 'プ': "ﾌﾟ",
	'ヘ': "ﾍ", 'ベ': "ﾍﾞ", 'ペ': "ﾍﾟ", 'ホ': "ﾎ", 'ボ': "ﾎﾞ", 'ポ': "ﾎﾟ",
	'マ': "ﾏ", 'ミ': "ﾐ", 'ム': "ﾑ", 'メ': "ﾒ", 'モ': "ﾓ",
	'ャ': "ﾔ", 'ヤ': "ﾔ", 'ュ': "ﾕ", 'ユ': "ﾕ", 'ョ': "ﾖ", 'ヨ': "ﾖ",
	'ラ': "ﾗ", 'リ': "ﾘ", 'ル': "ﾙ", 'レ': "ﾚ", 'ロ': "ﾛ",
	'ヮ': "ﾜ", 'ワ': "ﾜ", 'ヰ': "ｲ", 'ヱ': "ｴ", 'ヲ': "ｵ", 'ン': "ﾝ",
	'ヴ': "ｳﾞ", 'ヵ': "ｶ", 'ヶ': "ｹ",
	// Half-width kana that are JIS X 0201 but not Zengin characters.
	'ｦ': "ｵ", 'ｧ': "ｱ", 'ｨ': "ｲ", 'ｩ': "ｳ", 'ｪ': "ｴ", 'ｫ': "ｵ", 'ｬ': "ﾔ", 'ｭ': "ﾕ", 'ｮ': "ﾖ", 'ｯ': "ﾂ",
}

// EncodeSJIS encodes s in the single-byte part of Shift_JIS (JIS X 0201):
// ASCII 0x20..0x7E, with ¥ at 0x5C and ‾ at 0x7E, and the half-width kana
// ｡..ﾟ at 0xA1..0xDF. Any other character is refused with its position.
func EncodeSJIS(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	pos := 0
	for _, r := range s {
		pos++
		b, ok := encodeRune(r) // invalid UTF-8 arrives as U+FFFD and is refused
		if !ok {
			return nil, &KanaError{Err: ErrInvalidCharacter, Char: r, Pos: pos}
		}
		out = append(out, b)
	}
	return out, nil
}

// encodeRune encodes one JIS X 0201 character.
func encodeRune(r rune) (byte, bool) {
	switch {
	case r == '¥':
		return 0x5C, true
	case r == '‾':
		return 0x7E, true
	case r == '\\' || r == '~':
		return 0, false
	case r >= 0x20 && r <= 0x7E:
		return byte(r), true
	case r >= '｡' && r <= 'ﾟ': // U+FF61..U+FF9F
		return byte(r - '｡' + 0xA1), true
	}
	return 0, false
}

// DecodeSJIS decodes the single-byte part of Shift_JIS (JIS X 0201), the
// inverse of EncodeSJIS. Any other byte (control characters, the lead
// bytes of two-byte characters) is refused with its position.
func DecodeSJIS(b []byte) (string, error) {
	var sb strings.Builder
	sb.Grow(len(b) * 3)
	for i, c := range b {
		r, ok := decodeByte(c)
		if !ok {
			return "", fmt.Errorf("zengin: byte 0x%02X at position %d: %w", c, i+1, ErrInvalidCharacter)
		}
		sb.WriteRune(r)
	}
	return sb.String(), nil
}

// decodeByte decodes one JIS X 0201 byte.
func decodeByte(c byte) (rune, bool) {
	switch {
	case c == 0x5C:
		return '¥', true
	case c == 0x7E:
		return '‾', true
	case c >= 0x20 && c < 0x7F:
		return rune(c), true
	case c >= 0xA1 && c <= 0xDF:
		return rune(c-0xA1) + '｡', true
	}
	return 0, false
}
