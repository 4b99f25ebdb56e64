package banking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/zengin"
)

// BatchKind is the kind of a batch: 総合振込, or 給与・賞与振込 (payroll).
type BatchKind string

// Kinds of batches.
const (
	BatchGeneral BatchKind = "general" // 総合振込 (Zengin 種別コード 21)
	BatchSalary  BatchKind = "salary"  // 給与振込 (11)
	BatchBonus   BatchKind = "bonus"   // 賞与振込 (12)
)

// valid reports whether k is one of the kinds.
func (k BatchKind) valid() bool { return k == BatchGeneral || k == BatchSalary || k == BatchBonus }

// Payroll reports whether k is 給与振込 or 賞与振込.
func (k BatchKind) Payroll() bool { return k == BatchSalary || k == BatchBonus }

// Label returns the Japanese name of the kind.
func (k BatchKind) Label() string {
	switch k {
	case BatchSalary:
		return "給与振込"
	case BatchBonus:
		return "賞与振込"
	}
	return "総合振込"
}

// ZenginKind returns the 種別コード of files of the kind.
func (k BatchKind) ZenginKind() zengin.Kind {
	switch k {
	case BatchSalary:
		return zengin.KindSalary
	case BatchBonus:
		return zengin.KindBonus
	}
	return zengin.KindGeneral
}

// BatchKindOf returns the kind of batch a file's 種別コード makes.
func BatchKindOf(k zengin.Kind) BatchKind {
	switch k {
	case zengin.KindSalary:
		return BatchSalary
	case zengin.KindBonus:
		return BatchBonus
	}
	return BatchGeneral
}

// The defaults of Config.PayrollDays and PayrollCutoff: a payroll file is
// requested by 15:00 three business days before its payment date.
const DefaultPayrollDays = 3

// DefaultPayrollCutoff is the default of Config.PayrollCutoff.
var DefaultPayrollCutoff = calendar.Clock{Hour: 15}

// ErrPayrollDeadline is a payroll batch requested after the bank's deadline
// for its payment date; the error is a *PayrollDeadlineError.
var ErrPayrollDeadline = errors.New("banking: past the deadline of payroll transfers") // payroll_deadline

// PayrollDeadlineError says when a payroll batch for Payment should have
// been requested: by Cutoff on LastDay. It is ErrPayrollDeadline for
// errors.Is.
type PayrollDeadlineError struct {
	Payment calendar.Date
	LastDay calendar.Date
	Cutoff  calendar.Clock
	Days    int // business days before the payment date
}

// Error names the payment date and the deadline.
func (e *PayrollDeadlineError) Error() string {
	return fmt.Sprintf("banking: payroll for %s had to be requested by %s %s", e.Payment, e.LastDay, e.Cutoff)
}

// Is makes a PayrollDeadlineError match ErrPayrollDeadline.
func (e *PayrollDeadlineError) Is(target error) bool { return target == ErrPayrollDeadline }

// Ja is the Japanese message for the user.
func (e *PayrollDeadlineError) Ja() string {
	return fmt.Sprintf("給与・賞与振込の受付期限を過ぎています。支払日 %s の給与・賞与振込は、%d営業日前の %s %sまでにご依頼ください。支払日を変えたファイルで、もう一度ご依頼ください。",
		e.Payment.JaWithYear(), e.Days, e.LastDay.JaWithYear(), e.Cutoff.Ja())
}

// En is the English message for the user.
func (e *PayrollDeadlineError) En() string {
	return fmt.Sprintf("The deadline for payroll transfers has passed: payroll paid on %s had to be requested by %s on %s, %d business days before. Upload a file with a later payment date.",
		e.Payment.EnWithYear(), e.Cutoff, e.LastDay.EnWithYear(), e.Days)
}

// PayrollDeadline returns the last day and time at which a payroll batch
// paid on payment may be requested: PayrollCutoff, PayrollDays business
// days before payment.
func (s *Service) PayrollDeadline(payment calendar.Date) (calendar.Date, time.Time, error) {
	last, err := s.c.Calendar.AddBusinessDays(payment, -s.c.PayrollDays)
	if err != nil {
		return calendar.Date{}, time.Time{}, fmt.Errorf("%w: %w", ErrInvalidExecutionDate, err)
	}
	return last, last.At(s.c.PayrollCutoff), nil
}

// checkPayrollDeadline refuses a payroll batch paid on payment at now when
// now is at or after its deadline.
func (s *Service) checkPayrollDeadline(now time.Time, payment calendar.Date) error {
	last, at, err := s.PayrollDeadline(payment)
	if err != nil {
		return err
	}
	if !now.Before(at) {
		return &PayrollDeadlineError{Payment: payment, LastDay: last, Cutoff: s.c.PayrollCutoff, Days: s.c.PayrollDays}
	}
	return nil
}

// MaySeePayroll reports whether u may see the names and amounts of payroll
// batches' items: the master user, or a user given payroll inquiry.
func (s *Service) MaySeePayroll(ctx context.Context, u identity.User) (bool, error) {
	p, err := s.effective(ctx, u)
	if err != nil {
		return false, err
	}
	return p.Master || p.PayrollInquiry, nil
}

// Hidden is the name that takes the place of a payroll payee's name for a
// user without payroll inquiry; the amount is 0.
const Hidden = "***"

// redact hides the payees' names and amounts of ts that are items of
// payroll batches, unless u may see them; it reads each batch once.
func (s *Service) redact(ctx context.Context, u identity.User, ts []Transfer) error {
	see := false
	checked := false
	kinds := map[int64]BatchKind{}
	for i := range ts {
		if ts[i].BatchID == 0 {
			continue
		}
		k, ok := kinds[ts[i].BatchID]
		if !ok {
			b, err := s.c.Store.BatchByID(ctx, ts[i].BatchID)
			if err != nil {
				return err
			}
			k, kinds[ts[i].BatchID] = b.Kind, b.Kind
		}
		if !k.Payroll() {
			continue
		}
		if !checked {
			var err error
			if see, err = s.MaySeePayroll(ctx, u); err != nil {
				return err
			}
			checked = true
		}
		if !see {
			hide(&ts[i])
		}
	}
	return nil
}

// mergePayroll makes the postings of each payroll batch one line of the
// paying account's statement for a user without payroll inquiry: the
// consecutive postings of its items (their debits and fees) become one
// posting of their total, with the balance after the last, described by
// the batch's kind and its count, so that no salary can be read from the
// statement, its download or the API. A user with payroll inquiry gets ps
// as it is.
func (s *Service) mergePayroll(ctx context.Context, u identity.User, ps []Posting) ([]Posting, error) {
	see, err := s.MaySeePayroll(ctx, u)
	if err != nil || see {
		return ps, err
	}
	batchOf := map[int64]int64{} // transfer: its payroll batch, 0 for none
	kinds := map[int64]BatchKind{}
	out := make([]Posting, 0, len(ps))
	var cur int64 // the payroll batch of out's last line
	transfers := map[int64]bool{}
	for _, p := range ps {
		var b int64
		if p.TransferID != 0 {
			id, ok := batchOf[p.TransferID]
			if !ok {
				t, err := s.c.Store.TransferByID(ctx, p.TransferID)
				if err != nil {
					return nil, err
				}
				if t.BatchID != 0 {
					k, known := kinds[t.BatchID]
					if !known {
						bt, err := s.c.Store.BatchByID(ctx, t.BatchID)
						if err != nil {
							return nil, err
						}
						k, kinds[t.BatchID] = bt.Kind, bt.Kind
					}
					if k.Payroll() {
						id = t.BatchID
					}
				}
				batchOf[p.TransferID] = id
			}
			b = id
		}
		if b != 0 && b == cur && len(out) > 0 {
			last := &out[len(out)-1]
			last.Amount += p.Amount
			last.BalanceAfter = p.BalanceAfter
			transfers[p.TransferID] = true
			last.Description = payrollLine(kinds[b], len(transfers))
			continue
		}
		cur = b
		if b != 0 {
			transfers = map[int64]bool{p.TransferID: true}
			p.TransferID, p.Kind, p.Description = 0, PostingDebit, payrollLine(kinds[b], 1)
		}
		out = append(out, p)
	}
	return out, nil
}

// payrollLine describes the one line of a payroll batch's n payments.
func payrollLine(k BatchKind, n int) string {
	return fmt.Sprintf("%s %d件（手数料を含む）", k.Label(), n)
}

// hide removes a payroll item's name and amount.
func hide(t *Transfer) {
	t.Payee.Name, t.Amount, t.Hidden = Hidden, 0, true
}

// ---- the confirmation of an upload ----

// DraftLifetime is how long an upload is kept for its confirmation.
const DraftLifetime = time.Hour

// MaxDrafts is how many uploads one user may have awaiting confirmation;
// a newer one drops the oldest.
const MaxDrafts = 5

// DraftRow is an upload kept for its confirmation, as stored: the request
// as JSON.
type DraftRow struct {
	ID             int64
	OrganizationID int64
	UserID         int64
	Request        string
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// DateSource says where the requested date of a batch came from.
type DateSource string

// Date sources.
const (
	DateFromFile DateSource = "file" // the file's 振込指定日
	DateFromPage DateSource = "page" // the date chosen on the page (or in the API's request)
)

// BatchDraft is an uploaded batch awaiting its requester's confirmation:
// what it will be when confirmed. Its items carry the names of their banks
// and branches (PayeeNames) for the page.
type BatchDraft struct {
	ID        int64
	Batch     Batch // not recorded: ID 0
	Items     []Transfer
	Source    DateSource
	Requested calendar.Date
	// Reason says why the execution date is not the requested date (a
	// holiday, the cut-off); its Code is empty when it is the same.
	Reason    calendar.Reason
	ExpiresAt time.Time
	// PayrollLastDay and PayrollDeadline are the deadline of a payroll
	// batch (zero for 総合振込).
	PayrollLastDay  calendar.Date
	PayrollDeadline time.Time
}

// draftJSON is what a draft keeps: the request and where its date came
// from.
type draftJSON struct {
	Request BatchRequest
	Source  DateSource
}

// StageBatch checks a batch request of u exactly as CreateBatch does (its
// items to accounts here count as checks of them, once: not again when the
// upload is shown or confirmed), and
// keeps it (in the database, so that any server answers the confirmation)
// for DraftLifetime, awaiting ConfirmBatch or DiscardBatch. source says
// whether r.ExecutionDate is the file's date or the page's. Nothing is
// requested yet.
func (s *Service) StageBatch(ctx context.Context, u identity.User, r BatchRequest, source DateSource) (BatchDraft, error) {
	p, err := s.need(ctx, u, canRequest)
	if err != nil {
		return BatchDraft{}, err
	}
	if err := checkIdempotencyKey(r.IdempotencyKey); err != nil {
		return BatchDraft{}, err
	}
	if _, _, err := s.checkBatch(ctx, u, p, r, true); err != nil {
		return BatchDraft{}, err
	}
	raw, err := json.Marshal(draftJSON{Request: r, Source: source})
	if err != nil {
		return BatchDraft{}, fmt.Errorf("banking: stage batch: %w", err)
	}
	now := s.c.Now()
	row := DraftRow{OrganizationID: u.OrganizationID, UserID: u.ID, Request: string(raw), CreatedAt: now, ExpiresAt: now.Add(DraftLifetime)}
	err = s.c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeleteBatchDrafts(ctx, now, u.ID, MaxDrafts); err != nil {
			return err
		}
		return tx.InsertBatchDraft(ctx, &row)
	})
	if err != nil {
		return BatchDraft{}, err
	}
	return s.draft(ctx, u, p, row)
}

// BatchDraft returns u's upload awaiting confirmation, as it would be
// requested now; another user's, or one expired, is ErrNotFound.
func (s *Service) BatchDraft(ctx context.Context, u identity.User, id int64) (BatchDraft, error) {
	p, err := s.need(ctx, u, canRequest)
	if err != nil {
		return BatchDraft{}, err
	}
	row, err := s.ownDraft(ctx, u, id)
	if err != nil {
		return BatchDraft{}, err
	}
	return s.draft(ctx, u, p, row)
}

// ConfirmBatch requests u's upload awaiting confirmation (「依頼する」): it
// is checked again, now, and recorded as CreateBatch records a batch; the
// upload is dropped. Confirming twice gives the same batch (the upload's
// idempotency key) or ErrNotFound once it is dropped.
func (s *Service) ConfirmBatch(ctx context.Context, u identity.User, id int64) (Batch, error) {
	row, err := s.ownDraft(ctx, u, id)
	if err != nil {
		return Batch{}, err
	}
	var d draftJSON
	if err := json.Unmarshal([]byte(row.Request), &d); err != nil {
		return Batch{}, fmt.Errorf("banking: batch draft %d: %w", id, err)
	}
	// The staging counted the checks of the accounts here.
	b, err := s.createBatch(ctx, u, d.Request, false)
	if err != nil {
		return Batch{}, err
	}
	if err := s.c.Store.InTx(ctx, func(tx Tx) error {
		_, err := tx.DeleteBatchDraft(ctx, id)
		return err
	}); err != nil {
		return Batch{}, err
	}
	return b, nil
}

// DiscardBatch drops u's upload awaiting confirmation (cancel): nothing is
// requested.
func (s *Service) DiscardBatch(ctx context.Context, u identity.User, id int64) error {
	if _, err := s.ownDraft(ctx, u, id); err != nil {
		return err
	}
	return s.c.Store.InTx(ctx, func(tx Tx) error {
		ok, err := tx.DeleteBatchDraft(ctx, id)
		if err == nil && !ok {
			err = ErrNotFound
		}
		return err
	})
}

// ownDraft returns u's draft id, not expired; any other is ErrNotFound.
func (s *Service) ownDraft(ctx context.Context, u identity.User, id int64) (DraftRow, error) {
	row, err := s.c.Store.BatchDraft(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && (row.UserID != u.ID || row.OrganizationID != u.OrganizationID ||
		!s.c.Now().Before(row.ExpiresAt))) {
		return DraftRow{}, ErrNotFound
	}
	return row, err
}

// draft makes the draft of a stored upload: the batch it would be now.
func (s *Service) draft(ctx context.Context, u identity.User, p Privileges, row DraftRow) (BatchDraft, error) {
	var d draftJSON
	if err := json.Unmarshal([]byte(row.Request), &d); err != nil {
		return BatchDraft{}, fmt.Errorf("banking: batch draft %d: %w", row.ID, err)
	}
	b, items, err := s.checkBatch(ctx, u, p, d.Request, false)
	if err != nil {
		return BatchDraft{}, err
	}
	now := s.c.Now()
	requested := d.Request.ExecutionDate
	if requested.IsZero() {
		requested = calendar.DateOf(now)
	}
	out := BatchDraft{ID: row.ID, Batch: b, Items: items, Source: d.Source, Requested: requested, ExpiresAt: row.ExpiresAt}
	if _, reason, err := s.c.Calendar.ExecutionDate(now, requested, b.Interbank, s.c.Cutoff); err == nil && reason.Date == b.ExecutionDate {
		out.Reason = reason
	} else {
		out.Reason = calendar.Reason{Requested: requested, Date: b.ExecutionDate}
	}
	if b.Kind.Payroll() {
		if out.PayrollLastDay, out.PayrollDeadline, err = s.PayrollDeadline(b.ExecutionDate); err != nil {
			return BatchDraft{}, err
		}
		// Even the file's own uploader sees its names and amounts only
		// with payroll inquiry.
		if !p.Master && !p.PayrollInquiry {
			for i := range out.Items {
				hide(&out.Items[i])
			}
		}
	}
	return out, nil
}

// FileDate returns the date of a file's 振込指定日 (a month and day): the
// first such day on or after today in Japan at now.
func FileDate(md zengin.MonthDay, now time.Time) calendar.Date {
	today := calendar.DateOf(now)
	for year := today.Year; year <= today.Year+4; year++ {
		d := calendar.Date{Year: year, Month: md.Month, Day: md.Day}
		if calendar.NewDate(year, md.Month, md.Day) != d { // 29 February of another year
			continue
		}
		if !d.Before(today) {
			return d
		}
	}
	return calendar.Date{Year: today.Year, Month: md.Month, Day: md.Day}
}
