package testutil

import (
	"kinko/internal/banking"
	"kinko/internal/server"
)

// Fees is a fee table for tests with a distinct fee for every kind of payee
// and band, so that a fee taken from the wrong cell shows: same branch 11
// and 22 yen, other branch 110 and 220, other bank 330 and 440 (below
// 30,000 yen and from it).
var Fees = banking.FeeTable{
	SameBranch:  banking.FeeBand{Below30000: 11, From30000: 22},
	OtherBranch: banking.FeeBand{Below30000: 110, From30000: 220},
	OtherBank:   banking.FeeBand{Below30000: 330, From30000: 440},
}

// WithFees is a change of a bank's parts (NewBankWith, NewBankAt) that makes
// the bank charge Fees.
func WithFees(p *server.Parts) {
	fees := Fees
	p.Fees = &fees
}
