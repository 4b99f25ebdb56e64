package identity_test

import (
	"errors"
	"strings"
	"testing"

	"kinko/internal/identity"
)

func TestValidateLoginID(t *testing.T) {
	cases := []struct {
		name, id string
		reason   string // "" when valid
	}{
		{"6 characters", "abc123", ""},
		{"12 characters", "a1b2c3d4e5f6", ""},
		{"upper case", "ABCDE1", ""},
		{"one digit", "abcdefghijk1", ""},
		{"one letter", "a12345", ""},
		{"5 characters", "abc12", "length"},
		{"13 characters", "abcdef1234567", "length"},
		{"empty", "", "length"},
		{"letters only", "abcdef", "letters_and_digits"},
		{"digits only", "123456", "letters_and_digits"},
		{"space", "abc 123", "characters"},
		{"leading space", " abc123", "characters"},
		{"hyphen", "abc-123", "characters"},
		{"underscore", "abc_123", "characters"},
		{"at sign", "abc@123", "characters"},
		{"dot", "abc.123", "characters"},
		{"full-width digits", "abc１２３", "characters"},
		{"full-width letters", "ａｂｃ123", "characters"},
		{"accented letter", "abcdé1", "characters"},
		{"katakana", "テスト123", "characters"},
		{"NUL", "abc123\x00", "characters"},
		{"newline", "abc123\n", "characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := identity.ValidateLoginID(tc.id)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("ValidateLoginID(%q) = %v, want valid", tc.id, err)
				}
				return
			}
			var le *identity.LoginIDError
			if !errors.As(err, &le) || le.Reason != tc.reason {
				t.Fatalf("ValidateLoginID(%q) = %v, want LoginIDError %q", tc.id, err, tc.reason)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	const loginID = "tanaka01"
	cases := []struct {
		name, pw string
		reason   string // "" when valid
	}{
		{"8 characters", "abcd1234", ""},
		{"64 characters", strings.Repeat("a", 64), ""},
		{"symbols", `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~` + "`", ""},
		{"contains the login ID", "tanaka01!", ""},
		{"7 characters", "abc1234", "length"},
		{"65 characters", strings.Repeat("a", 65), "length"},
		{"empty", "", "length"},
		{"space", "abcd 1234", "characters"},
		{"tab", "abcd\t1234", "characters"},
		{"DEL", "abcd1234\x7f", "characters"},
		{"NUL", "abcd1234\x00", "characters"},
		{"full-width", "ｐａｓｓｗｏｒｄ", "characters"},
		{"Japanese", "パスワード1234", "characters"},
		{"the login ID", loginID, "same_as_login_id"},
		{"the login ID in upper case", "TANAKA01", "same_as_login_id"},
		{"the login ID in mixed case", "Tanaka01", "same_as_login_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := identity.ValidatePassword(tc.pw, loginID)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("ValidatePassword(%q) = %v, want valid", tc.pw, err)
				}
				return
			}
			var pe *identity.PasswordError
			if !errors.As(err, &pe) || pe.Reason != tc.reason {
				t.Fatalf("ValidatePassword(%q) = %v, want PasswordError %q", tc.pw, err, tc.reason)
			}
		})
	}
}

func TestValidateEmail(t *testing.T) {
	cases := []struct {
		email string
		ok    bool
	}{
		{"tanaka@example.org", true},
		{"t.tanaka+kinko@mail.example.co.jp", true},
		{"", false},
		{"tanaka", false},
		{"tanaka@", false},
		{"@example.org", false},
		{"tanaka@localhost", false},
		{"Tanaka <tanaka@example.org>", false},
		{"tanaka@example.org ", false},
		{" tanaka@example.org", false},
		{"tanaka@example.org, sato@example.org", false},
		{"tanaka@example.org\n", false},
		{strings.Repeat("a", 243) + "@example.org", false}, // 255 bytes
	}
	for _, tc := range cases {
		t.Run(tc.email, func(t *testing.T) {
			err := identity.ValidateEmail(tc.email)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidateEmail(%q) = %v, want ok=%v", tc.email, err, tc.ok)
			}
			if err != nil && !errors.Is(err, identity.ErrInvalidEmail) {
				t.Fatalf("ValidateEmail(%q) = %v, want ErrInvalidEmail", tc.email, err)
			}
		})
	}
}

func TestHardening_ValidateNameRefusesHiddenCharacters(t *testing.T) {
	cases := []struct {
		name, value string
		ok          bool
	}{
		{"Japanese", "山田 太郎", true},
		{"organization", "全国金庫労働組合 東京支部", true},
		{"one character", "山", true},
		{"100 characters", strings.Repeat("労", 100), true},
		{"101 characters", strings.Repeat("労", 101), false},
		{"empty", "", false},
		{"spaces only", "   ", false},
		{"ideographic spaces only", "\u3000\u3000", false},
		{"control character", "山田\x01太郎", false},
		{"newline inside", "山田\n太郎", false},
		{"DEL", "山田\x7f", false},
		{"invalid UTF-8", "山田\xff", false},
		{"C1 control character", "山田\u0085太郎", false},
		{"C1 CSI", "山田\u009b31m", false},
		{"right-to-left override", "山田\u202egpj.exe", false},
		{"left-to-right embedding", "山田\u202a太郎", false},
		{"first strong isolate", "山田\u2068太郎", false},
		{"right-to-left mark", "山田\u200f", false},
		{"arabic letter mark", "山田\u061c", false},
		{"zero-width space", "山田\u200b太郎", false},
		{"zero-width joiner", "山田\u200d太郎", false},
		{"byte order mark", "\ufeff山田", false},
		{"word joiner", "山田\u2060太郎", false},
		{"line separator", "山田\u2028太郎", false},
		{"ideographic space inside", "山田\u3000太郎", true},
		{"full-width letters", "ＡＢＣ労組", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := identity.ValidateName(tc.value)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidateName(%q) = %v, want ok=%v", tc.value, err, tc.ok)
			}
			if err != nil && !errors.Is(err, identity.ErrInvalidName) {
				t.Fatalf("ValidateName(%q) = %v, want ErrInvalidName", tc.value, err)
			}
		})
	}
}

// TestHardening_CheckPasswordStrengthRefusesGuessablePasswords: common
// passwords and their usual variations, keyboard walks, dates and
// variations of the user's own login ID or name are refused; long or
// random ones pass.
func TestHardening_CheckPasswordStrengthRefusesGuessablePasswords(t *testing.T) {
	cases := []struct {
		pw string
		ok bool
	}{
		{"password123", false},
		{"Password1!", false},
		{"P@ssw0rd2024", false},
		{"qwertyuiop", false},
		{"Sakura2026", false},
		{"1qaz2wsx3edc", false},
		{"ito00001ito", false},    // the login ID again
		{"Yamada1234!", false},    // the user's name
		{"yamada.taro1", false},   // the e-mail address
		{"Kinko2026!", false},     // the service's name
		{"Rokinbank#1", false},    // the bank's
		{"Sakuragumi2026", false}, // the organization's name
		{"91234567Ab", false},     // the organization's code
		{"correct-horse-battery", true},
		{"rPsTq3a6tDCG", true},
		{"Kn8-vT3m-Qa", true},
	}
	for _, tc := range cases {
		t.Run(tc.pw, func(t *testing.T) {
			err := identity.CheckPasswordStrength(tc.pw, "ito00001", "山田 Yamada", "yamada.taro@example.org", "Sakuragumi 労働組合", "91234567")
			if tc.ok != (err == nil) {
				t.Fatalf("CheckPasswordStrength(%q) = %v, want ok=%v", tc.pw, err, tc.ok)
			}
			var pe *identity.PasswordError
			if err != nil && (!errors.As(err, &pe) || pe.Reason != "too_guessable") {
				t.Fatalf("CheckPasswordStrength(%q) = %v, want a PasswordError too_guessable", tc.pw, err)
			}
		})
	}
}
