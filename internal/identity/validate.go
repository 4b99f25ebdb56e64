package identity

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

// LoginIDError says why a login ID is not acceptable.
type LoginIDError struct{ Reason string }

func (e *LoginIDError) Error() string { return "identity: invalid login ID: " + e.Reason }

// PasswordError says why a password is not acceptable.
type PasswordError struct{ Reason string }

func (e *PasswordError) Error() string { return "identity: invalid password: " + e.Reason }

// ValidateLoginID checks the login ID rule: 6..12 ASCII letters and digits,
// with at least one of each.
func ValidateLoginID(id string) error {
	if len(id) < 6 || len(id) > 12 {
		return &LoginIDError{Reason: "length"}
	}
	var letter, digit bool
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		default:
			return &LoginIDError{Reason: "characters"}
		}
	}
	if !letter || !digit {
		return &LoginIDError{Reason: "letters_and_digits"}
	}
	return nil
}

// ValidatePassword checks the password rule: 8..64 printable ASCII
// characters without spaces, not equal to the login ID.
func ValidatePassword(pw, loginID string) error {
	if len(pw) < 8 || len(pw) > 64 {
		return &PasswordError{Reason: "length"}
	}
	for i := 0; i < len(pw); i++ {
		if pw[i] < 0x21 || pw[i] > 0x7e {
			return &PasswordError{Reason: "characters"}
		}
	}
	if strings.EqualFold(pw, loginID) {
		return &PasswordError{Reason: "same_as_login_id"}
	}
	return nil
}

// MinPasswordScore is the least zxcvbn score a password a user chooses
// must have. Score 3 is "safely unguessable" (at least 10^8 guesses by
// zxcvbn's estimate): beyond what throttled online guessing can try, and
// costly offline against argon2id. Score 2 (10^6..10^8: "Sakura2026",
// "P@ssw0rd2024") falls to a list of common passwords with their usual
// variations, which is what NIST SP 800-63B 3.1.1.2 asks to refuse.
const MinPasswordScore = 3

// ContextWords are the words of this service that a password of it must
// not be built on (OWASP ASVS 6.1.2): the service's and the bank's names
// as users type them in ASCII. CheckPasswordStrength adds them to the
// user's own words.
var ContextWords = []string{"kinko", "rokin", "roukin", "rokinbank", "roukinbank", "rokin-bank",
	"ginko", "ginkou", "bank", "banking", "netbank", "kumiai", "union", "kyodo", "coop"}

// CheckPasswordStrength refuses a password that zxcvbn estimates at less
// than MinPasswordScore: a common password, a word with the usual
// substitutions and digits, a keyboard walk, a date, or a variation of
// ContextWords or of userInputs (the user's login ID, name and e-mail
// address, the organization's name and code). zxcvbn's own
// dictionaries of common passwords, names and words are kept with the
// estimator, so the bank keeps no list of its own. It is a
// *PasswordError with the reason "too_guessable".
func CheckPasswordStrength(pw string, userInputs ...string) error {
	inputs := append([]string(nil), ContextWords...)
	for _, in := range userInputs {
		if in == "" {
			continue
		}
		inputs = append(inputs, in)
		if local, _, ok := strings.Cut(in, "@"); ok && local != "" {
			inputs = append(inputs, local)
		}
		inputs = append(inputs, strings.Fields(in)...)
	}
	if zxcvbn.PasswordStrength(pw, inputs).Score < MinPasswordScore {
		return &PasswordError{Reason: "too_guessable"}
	}
	return nil
}

// ValidateName checks a person's or organization's name: 1..100 characters,
// valid UTF-8, no hidden characters (HiddenCharacter).
func ValidateName(name string) error {
	n := strings.TrimSpace(name)
	if n == "" || !utf8.ValidString(n) || utf8.RuneCountInString(n) > 100 {
		return ErrInvalidName
	}
	for _, r := range n {
		if HiddenCharacter(r) {
			return ErrInvalidName
		}
	}
	return nil
}

// HiddenCharacter reports whether r is a character no name or free text
// may hold, because it is invisible or changes how the text around it
// shows: a control character (C0, DEL, C1), a format character (the
// bidirectional embeddings, overrides, isolates and marks, the zero-width
// space, joiners and no-break space, the soft hyphen...) or a line or
// paragraph separator. A name with a right-to-left override reads
// otherwise than it is, on a page, in a mail and in the audit trail.
func HiddenCharacter(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// ValidateEmail checks an e-mail address (a bare address, at most 254 bytes).
func ValidateEmail(email string) error {
	if len(email) > 254 {
		return ErrInvalidEmail
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return fmt.Errorf("%w: %q", ErrInvalidEmail, email)
	}
	return nil
}
