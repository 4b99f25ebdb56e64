package identity

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPasswordRules feeds the password rule arbitrary passwords and login
// IDs. It never panics; a refusal is a *PasswordError with a reason the
// pages and the API have a message for; an accepted password keeps the
// rule's promises (length, printable ASCII, not the login ID).
func FuzzPasswordRules(f *testing.F) {
	for _, s := range [][2]string{
		{"Login-m0000001", "m0000001"}, {"password", "abc123"}, {"M0000001", "m0000001"},
		{"短いパスワード", "abc123"}, {"with space1", "abc123"}, {strings.Repeat("a1", 40), "abc123"},
		{"\x00\x01\x02\x03\x04\x05\x06\x07", "abc123"}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	reasons := map[string]bool{"length": true, "characters": true, "same_as_login_id": true}
	f.Fuzz(func(t *testing.T, pw, loginID string) {
		err := ValidatePassword(pw, loginID)
		if err != nil {
			var pe *PasswordError
			if !errors.As(err, &pe) || !reasons[pe.Reason] {
				t.Fatalf("ValidatePassword(%q, %q) = %v, not a PasswordError with a known reason", pw, loginID, err)
			}
			return
		}
		if len(pw) < 8 || len(pw) > 64 || strings.EqualFold(pw, loginID) {
			t.Fatalf("ValidatePassword accepted %q for %q", pw, loginID)
		}
		for i := 0; i < len(pw); i++ {
			if pw[i] < 0x21 || pw[i] > 0x7e {
				t.Fatalf("ValidatePassword accepted %q with byte %#x", pw, pw[i])
			}
		}
	})
}

// FuzzNameAndLoginIDRules feeds the rules for names, login IDs and e-mail
// addresses arbitrary text: they never panic, and what they accept is
// what they promise.
func FuzzNameAndLoginIDRules(f *testing.F) {
	for _, s := range []string{"全国労働組合", "m0000001", "ito@example.org", "\u202eevil", "a\u200bb", "x\u0085y",
		" ", "ITO00001", strings.Repeat("名", 101), "\xff\xfe", "a@b", "<a@b.c>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateName(s) == nil {
			n := strings.TrimSpace(s)
			if n == "" || !utf8.ValidString(n) || utf8.RuneCountInString(n) > 100 {
				t.Fatalf("ValidateName accepted %q", s)
			}
			for _, r := range n {
				if r < 0x20 || r == 0x7f || HiddenCharacter(r) {
					t.Fatalf("ValidateName accepted %q with hidden or control character %U", s, r)
				}
			}
		}
		if ValidateLoginID(s) == nil {
			if len(s) < 6 || len(s) > 12 || strings.Trim(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				t.Fatalf("ValidateLoginID accepted %q", s)
			}
		}
		if ValidateEmail(s) == nil {
			if len(s) > 254 || !strings.Contains(s, "@") || strings.ContainsAny(s, " <>\r\n") {
				t.Fatalf("ValidateEmail accepted %q", s)
			}
		}
	})
}
