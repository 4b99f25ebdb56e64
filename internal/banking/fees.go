package banking

import (
	"errors"
	"fmt"
)

// FeeThreshold is the amount from which the higher fee of a band applies:
// Japanese banks publish their transfer fees (振込手数料) for amounts below
// 30,000 yen and from 30,000 yen.
const FeeThreshold int64 = 30_000

// MaxFee is the largest fee of the table: a fee above it is a mistake in
// the config, not a bank's price.
const MaxFee int64 = 9_999

// FeeBand is the fee of one kind of payee, in yen with the consumption tax
// included: below FeeThreshold and from it.
type FeeBand struct {
	Below30000 int64
	From30000  int64
}

// Of returns the fee of the band for amount.
func (b FeeBand) Of(amount int64) int64 {
	if amount < FeeThreshold {
		return b.Below30000
	}
	return b.From30000
}

// FeeTable is the bank's table of transfer fees (振込手数料), the way Japanese
// banks publish it: to an account of the same branch of this bank, of
// another branch of this bank, and of another bank.
type FeeTable struct {
	SameBranch  FeeBand // 当行同一店宛
	OtherBranch FeeBand // 当行本支店宛
	OtherBank   FeeBand // 他行宛
}

// DefaultFees returns the fees of the config while the bank has set none:
// those a labour bank (労働金庫) publishes for its internet banking, free
// within the bank, and 220 yen below 30,000 yen and 330 yen from it to
// other banks.
func DefaultFees() FeeTable {
	return FeeTable{OtherBank: FeeBand{Below30000: 220, From30000: 330}}
}

// ErrInvalidFees is a fee table with a fee out of range.
var ErrInvalidFees = errors.New("banking: invalid fee table")

// Validate reports every fee of the table outside 0..MaxFee.
func (t FeeTable) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		fee  int64
	}{
		{"same branch below 30,000 yen", t.SameBranch.Below30000},
		{"same branch from 30,000 yen", t.SameBranch.From30000},
		{"other branch below 30,000 yen", t.OtherBranch.Below30000},
		{"other branch from 30,000 yen", t.OtherBranch.From30000},
		{"other bank below 30,000 yen", t.OtherBank.Below30000},
		{"other bank from 30,000 yen", t.OtherBank.From30000},
	} {
		if f.fee < 0 || f.fee > MaxFee {
			errs = append(errs, fmt.Errorf("%w: %s: %d yen is not within 0..%d", ErrInvalidFees, f.name, f.fee, MaxFee))
		}
	}
	return errors.Join(errs...)
}

// FeePayer says who bears the fee of a transfer.
type FeePayer string

// Fee payers.
const (
	// FeePayerPayer (当方負担) is the default: the account is debited the
	// amount and the fee, and the payee receives the amount.
	FeePayerPayer FeePayer = "payer"
	// FeePayerPayee (先方負担): the fee is taken from the amount sent; the
	// account is debited the amount, and the payee receives the amount less
	// the fee.
	FeePayerPayee FeePayer = "payee"
)

// ErrInvalidFeePayer is a fee payer other than "payer" and "payee".
var ErrInvalidFeePayer = errors.New("banking: invalid fee payer") // invalid_fee_payer

// ErrAmountNotAboveFee is a transfer whose fee the payee bears (先方負担) of
// an amount not above its fee: nothing would be left to send.
var ErrAmountNotAboveFee = errors.New("banking: the amount does not exceed the fee the payee bears") // amount_not_above_fee

// Label returns the Japanese name of the fee payer.
func (p FeePayer) Label() string {
	if p == FeePayerPayee {
		return "先方負担"
	}
	return "当方負担"
}

// feePayer returns p checked, "" as FeePayerPayer.
func feePayer(p FeePayer) (FeePayer, error) {
	switch p {
	case "", FeePayerPayer:
		return FeePayerPayer, nil
	case FeePayerPayee:
		return FeePayerPayee, nil
	}
	return "", fmt.Errorf("%w: %q", ErrInvalidFeePayer, string(p))
}

// Sent returns the amount the payee receives: the amount, less the fee when
// the payee bears it.
func (t Transfer) Sent() int64 {
	if t.FeePayer == FeePayerPayee {
		return t.Amount - t.Fee
	}
	return t.Amount
}

// Debited returns what the transfer takes from its account at execution:
// the amount sent and the fee.
func (t Transfer) Debited() int64 { return t.Sent() + t.Fee }

// TotalFees returns the sum of the fees of transfers (the items of a batch).
func TotalFees(items []Transfer) int64 {
	var n int64
	for _, t := range items {
		n += t.Fee
	}
	return n
}

// SetFees makes t the fee table of the transfers requested from now on, on a
// running server; a transfer already requested keeps the fee it was
// requested with. A table that is not valid is refused and the one in force
// kept.
func (s *Service) SetFees(t FeeTable) error {
	if err := t.Validate(); err != nil {
		return err
	}
	s.fees.Store(&t)
	return nil
}

// Fees returns the fee table in force.
func (s *Service) Fees() FeeTable { return *s.fees.Load() }

// Fee returns the fee of a transfer of amount from account from to payee,
// by the table in force: same branch, other branch of this bank, or other
// bank, below FeeThreshold or from it.
func (s *Service) Fee(from Account, payee PayeeAccount, amount int64) int64 {
	t := s.Fees()
	switch {
	case payee.BankCode != s.c.BankCode:
		return t.OtherBank.Of(amount)
	case payee.BranchCode == from.BranchCode:
		return t.SameBranch.Of(amount)
	}
	return t.OtherBranch.Of(amount)
}

// withFee sets the fee of t, from account from, by the table in force, and
// its payer; a transfer whose payee bears the fee must leave something to
// send.
func (s *Service) withFee(t *Transfer, from Account, payer FeePayer) error {
	payer, err := feePayer(payer)
	if err != nil {
		return err
	}
	t.FeePayer, t.Fee = payer, s.Fee(from, t.Payee, t.Amount)
	if payer == FeePayerPayee && t.Amount <= t.Fee {
		return fmt.Errorf("%w: amount %d, fee %d", ErrAmountNotAboveFee, t.Amount, t.Fee)
	}
	return nil
}
