package identity_test

import (
	"errors"
	"strings"
	"testing"

	"kinko/internal/identity"
)

// FuzzPasswordStrength feeds the rules of a chosen password arbitrary
// passwords and user inputs. They must not panic; a refusal is always a
// *PasswordError; a password that ValidatePassword refuses for its
// characters or length is never checked further, as ChangePassword does.
func FuzzPasswordStrength(f *testing.F) {
	for _, s := range []struct{ pw, id, name string }{
		{"password123", "ito00001", "伊藤 一郎"},
		{"correct-horse-battery", "ito00001", "伊藤 一郎"},
		{"ITO00001ito", "ito00001", "Ito"},
		{"P@ssw0rd2024", "abc123", ""},
		{"\x00\xff", "", "\u202e"},
		{strings.Repeat("a", 64), "aaaaaa1", "a"},
		{"1qaz2wsx3edc4rfv", "qaz123", "qwerty"},
	} {
		f.Add(s.pw, s.id, s.name)
	}
	f.Fuzz(func(t *testing.T, pw, loginID, name string) {
		err := identity.ValidatePassword(pw, loginID)
		var pe *identity.PasswordError
		if err != nil {
			if !errors.As(err, &pe) {
				t.Fatalf("ValidatePassword(%q) = %v, not a PasswordError", pw, err)
			}
			return
		}
		if err := identity.CheckPasswordStrength(pw, loginID, name, loginID+"@example.org"); err != nil {
			if !errors.As(err, &pe) || pe.Reason != "too_guessable" {
				t.Fatalf("CheckPasswordStrength(%q) = %v, want nil or too_guessable", pw, err)
			}
		}
	})
}
