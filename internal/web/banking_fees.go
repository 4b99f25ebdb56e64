package web

import (
	"net/http"

	"kinko/internal/banking"
)

// feeView is the fee of a transfer as the pages show it: the fee, who bears
// it, what the payee receives and what leaves the account.
type feeView struct {
	Fee      money
	PayerKey string // the catalogue key of who bears it
	Payee    bool   // the payee bears it (先方負担)
	Received money
	Debited  money
}

// feeOf returns the fee view of a transfer.
func feeOf(t banking.Transfer) feeView {
	v := feeView{Fee: money(t.Fee), PayerKey: "fees.payer", Received: money(t.Sent()), Debited: money(t.Debited())}
	if t.FeePayer == banking.FeePayerPayee {
		v.PayerKey, v.Payee = "fees.payee", true
	}
	return v
}

// checkFee checks who bears the fee of the transfer form and sets the plan's
// fee by the bank's table; a transfer whose payee bears its fee must be of
// more than the fee.
func (h *Handler) checkFee(r *http.Request, f transferForm, plan *transferPlan, errs map[string]string) {
	switch banking.FeePayer(f.FeePayer) {
	case "", banking.FeePayerPayer:
		plan.req.FeePayer = banking.FeePayerPayer
	case banking.FeePayerPayee:
		plan.req.FeePayer = banking.FeePayerPayee
	default:
		_, errs["fee_payer"] = h.bankingText(r, banking.ErrInvalidFeePayer)
		return
	}
	if plan.from.ID == 0 || plan.payee.BankCode == "" || plan.req.Amount <= 0 {
		return
	}
	plan.fee = h.c.Banking.Fee(plan.from, plan.payee, plan.req.Amount)
	if _, ok := errs["amount"]; !ok && plan.req.FeePayer == banking.FeePayerPayee && plan.req.Amount <= plan.fee {
		_, errs["amount"] = h.bankingText(r, banking.ErrAmountNotAboveFee)
	}
}
