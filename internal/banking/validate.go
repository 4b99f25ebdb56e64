package banking

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"kinko/internal/calendar"
	"kinko/internal/identity"
)

// Lengths of free text, in characters.
const (
	MaxPayeeName      = 30  // Zengin 受取人名
	MaxHolderName     = 30  // as a payee name at other banks
	MaxNickname       = 50  // a payee's name for the organization
	MaxMemo           = 100 // a transfer's memo, kept here and never sent
	MaxComment        = 200 // an approver's comment
	MaxDescription    = 48  // a posting's description (摘要)
	MaxSourceFile     = 255
	MaxIdempotencyKey = 255
	MaxCustomerCode   = 10
	MaxBatchItems     = 9999
)

// isDigits reports whether s is exactly n ASCII digits.
func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// DefaultNormalizeName accepts a name already in the Zengin form: A-Z, 0-9,
// space, ( ) - . / and half-width katakana (U+FF61..U+FF9F). It converts
// nothing.
func DefaultNormalizeName(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidPayeeName)
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r >= 0xFF61 && r <= 0xFF9F:
		case r == ' ', r == '(', r == ')', r == '-', r == '.', r == '/':
		default:
			return "", fmt.Errorf("%w: character %q at %d", ErrInvalidPayeeName, r, utf8.RuneCountInString(s[:i])+1)
		}
	}
	return s, nil
}

// DefaultExecutionDate refuses a date before today (in Japan) and keeps any
// other.
func DefaultExecutionDate(now time.Time, requested calendar.Date, interbank bool) (calendar.Date, error) {
	if requested.Before(calendar.DateOf(now)) {
		return calendar.Date{}, fmt.Errorf("%w: %s is in the past", ErrInvalidExecutionDate, requested)
	}
	return requested, nil
}

// checkText checks free text: at most max characters, valid UTF-8, no
// hidden characters (identity.HiddenCharacter: control and format
// characters such as bidirectional overrides and zero-width spaces, line
// separators); empty only when allowed.
func checkText(s string, max int, allowEmpty bool, kind error) error {
	if s == "" {
		if allowEmpty {
			return nil
		}
		return fmt.Errorf("%w: empty", kind)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: not UTF-8", kind)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%w: %d characters, at most %d", kind, n, max)
	}
	for _, r := range s {
		if identity.HiddenCharacter(r) {
			return fmt.Errorf("%w: control, format or separator character %U", kind, r)
		}
	}
	return nil
}

// checkAmount checks an amount of money: 1..MaxAmount yen.
func checkAmount(v int64) error {
	if v <= 0 || v > MaxAmount {
		return fmt.Errorf("%w: %d", ErrInvalidAmount, v)
	}
	return nil
}

// checkAccountNumber checks the branch code, type and number of an account
// at this bank.
func checkAccountNumber(branch string, typ AccountType, number string) error {
	if !isDigits(branch, 3) {
		return fmt.Errorf("%w: branch code %q is not 3 digits", ErrInvalidAccount, branch)
	}
	if typ != Ordinary && typ != Current {
		return fmt.Errorf("%w: account type %q", ErrInvalidAccount, typ)
	}
	if !isDigits(number, 7) {
		return fmt.Errorf("%w: account number %q is not 7 digits", ErrInvalidAccount, number)
	}
	return nil
}

// normalizePayee checks a payee's account fields and returns them with the
// name normalized.
func (s *Service) normalizePayee(p PayeeAccount) (PayeeAccount, error) {
	if !isDigits(p.BankCode, 4) {
		return PayeeAccount{}, fmt.Errorf("%w: bank code %q is not 4 digits", ErrInvalidPayee, p.BankCode)
	}
	if !isDigits(p.BranchCode, 3) {
		return PayeeAccount{}, fmt.Errorf("%w: branch code %q is not 3 digits", ErrInvalidPayee, p.BranchCode)
	}
	if p.AccountType.ZenginCode() == "" {
		return PayeeAccount{}, fmt.Errorf("%w: account type %q", ErrInvalidPayee, p.AccountType)
	}
	if !isDigits(p.AccountNumber, 7) {
		return PayeeAccount{}, fmt.Errorf("%w: account number %q is not 7 digits", ErrInvalidPayee, p.AccountNumber)
	}
	name, err := s.normalizeName(p.Name, MaxPayeeName)
	if err != nil {
		return PayeeAccount{}, err
	}
	p.Name = name
	return p, nil
}

// normalizeName normalizes a Zengin name of at most max characters.
func (s *Service) normalizeName(name string, max int) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidPayeeName)
	}
	n, err := s.c.NormalizeName(name)
	if errors.Is(err, ErrInvalidPayeeName) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPayeeName, err)
	}
	if n == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidPayeeName)
	}
	if c := utf8.RuneCountInString(n); c > max {
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrInvalidPayeeName, c, max)
	}
	return n, nil
}

// checkCustomerCode checks a Zengin customer code: up to 10 digits.
func checkCustomerCode(c string) error {
	if c == "" {
		return nil
	}
	if len(c) > MaxCustomerCode || !isDigits(c, len(c)) {
		return fmt.Errorf("%w: %q", ErrInvalidCustomerCode, c)
	}
	return nil
}

// checkIdempotencyKey checks a client's idempotency key: printable ASCII.
func checkIdempotencyKey(k string) error {
	if len(k) > MaxIdempotencyKey {
		return fmt.Errorf("%w: longer than %d", ErrInvalidIdempotencyKey, MaxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return fmt.Errorf("%w: character at %d", ErrInvalidIdempotencyKey, i+1)
		}
	}
	return nil
}
