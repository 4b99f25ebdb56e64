package banking

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"kinko/internal/calendar"
	"kinko/internal/zengin"
)

// InterbankFile is one outgoing 総合振込 file: the executed transfers to
// other banks paid from one account (a file's header names one requester
// and one account).
type InterbankFile struct {
	Account Account // the paying account
	// Kind is the kind of its transfers: single transfers and 総合振込
	// batches go in a 総合振込 file (種別コード 21), the items of payroll
	// batches in a 給与振込 (11) or 賞与振込 (12) file of their own.
	Kind             BatchKind
	OrganizationCode string
	TransferIDs      []int64 // in order of ID
	Total            int64   // yen
	Data             []byte  // the Zengin file
	// Name is the name the file is written and recorded under (the
	// transfers' history), given by InterbankWriter.Place.
	Name string
}

// Count returns the number of transfers in the file.
func (f InterbankFile) Count() int { return len(f.TransferIDs) }

// InterbankWriter is where an interbank export puts its files.
type InterbankWriter interface {
	// Place is given every file before any is written and sets each one's
	// Name; an error (a file exists already) stops the export with nothing
	// written.
	Place(files []InterbankFile) error
	// Write writes one file, never over another.
	Write(f InterbankFile) error
	// Remove removes a written file whose transfers could not be marked
	// sent.
	Remove(f InterbankFile) error
}

// InterbankExport is an export of transfers to other banks.
type InterbankExport struct {
	// Through is the day of the files: transfers dated on or before it are
	// exported, and it is the headers' 振込指定日, also for a transfer dated
	// earlier and not sent on its day.
	Through  calendar.Date
	Operator string
	Options  zengin.WriteOptions
}

// ExportInterbank writes the executed transfers to other banks that are
// dated on or before r.Through and not yet sent, as 総合振込 files, one per
// paying account in order of the account's ID (and 給与振込 and 賞与振込
// files of the items of payroll batches, after the account's 総合振込), and records them as sent:
// each file is written, then its transfers are marked sent (all or none);
// when marking fails the file is removed. It returns the files written and
// marked, none when nothing is pending; an error after some files says how
// many.
func (s *Service) ExportInterbank(ctx context.Context, r InterbankExport, w InterbankWriter) ([]InterbankFile, error) {
	pending, err := s.c.Store.InterbankPending(ctx, r.Through)
	if err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		return nil, nil
	}
	files, err := s.interbankFiles(ctx, pending, r)
	if err != nil {
		return nil, err
	}
	if err := w.Place(files); err != nil {
		return nil, err
	}
	for i, f := range files {
		if err := w.Write(f); err != nil {
			return files[:i], fmt.Errorf("%w (%d of %d files written and marked sent before it)", err, i, len(files))
		}
		if err := s.MarkInterbankSent(ctx, f.TransferIDs, f.Name, r.Operator); err != nil {
			if rmErr := w.Remove(f); rmErr != nil {
				err = errors.Join(err, rmErr)
			} else if errors.Is(err, ErrInterbankAlreadyWritten) || errors.Is(err, ErrNotFound) {
				err = fmt.Errorf("%w: another export took them meanwhile; %s removed, run the export again", err, f.Name)
			}
			return files[:i], fmt.Errorf("%w (%d of %d files written and marked sent before it)", err, i, len(files))
		}
	}
	return files, nil
}

// interbankFiles groups transfers by the account they are paid from and
// formats each group as a 総合振込 file.
func (s *Service) interbankFiles(ctx context.Context, pending []Transfer, r InterbankExport) ([]InterbankFile, error) {
	orgs, err := s.c.Identity.ListOrganizations(ctx)
	if err != nil {
		return nil, err
	}
	orgCode := map[int64]string{}
	for _, o := range orgs {
		orgCode[o.ID] = o.Code
	}
	type group struct {
		account int64
		kind    BatchKind
	}
	kinds := map[int64]BatchKind{}
	byGroup := map[group][]Transfer{}
	var groups []group
	for _, t := range pending {
		kind := BatchGeneral
		if t.BatchID != 0 {
			k, ok := kinds[t.BatchID]
			if !ok {
				b, err := s.c.Store.BatchByID(ctx, t.BatchID)
				if err != nil {
					return nil, fmt.Errorf("banking: interbank export: batch %d: %w", t.BatchID, err)
				}
				k, kinds[t.BatchID] = b.Kind, b.Kind
			}
			if k.Payroll() {
				kind = k
			}
		}
		g := group{t.FromAccountID, kind}
		if _, ok := byGroup[g]; !ok {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], t)
	}
	order := map[BatchKind]int{BatchGeneral: 0, BatchSalary: 1, BatchBonus: 2}
	slices.SortFunc(groups, func(a, b group) int {
		if a.account != b.account {
			return cmp.Compare(a.account, b.account)
		}
		return cmp.Compare(order[a.kind], order[b.kind])
	})
	var files []InterbankFile
	for _, g := range groups {
		id := g.account
		a, err := s.c.Store.AccountByID(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("banking: interbank export: account %d: %w", id, err)
		}
		at := zengin.AccountOrdinary
		if a.Type == Current {
			at = zengin.AccountChecking
		}
		zf := &zengin.File{Header: zengin.Header{Kind: g.kind.ZenginKind(), RequesterCode: orgCode[a.OrganizationID], RequesterName: a.HolderName,
			Date: zengin.MonthDay{Month: r.Through.Month, Day: r.Through.Day}, BankCode: s.c.BankCode,
			BranchCode: a.BranchCode, AccountType: at, AccountNumber: a.Number}}
		f := InterbankFile{Account: a, Kind: g.kind, OrganizationCode: orgCode[a.OrganizationID]}
		for _, t := range byGroup[g] {
			typ, err := strconv.Atoi(t.Payee.AccountType.ZenginCode())
			if err != nil {
				return nil, fmt.Errorf("banking: interbank export: transfer %d: account type %q", t.ID, t.Payee.AccountType)
			}
			var bankName, branchName string
			if b, ok := s.c.Banks.Bank(t.Payee.BankCode); ok {
				bankName = zengin.ZenginName(b.Kana, zengin.BankNameWidth)
			}
			if b, ok := s.c.Banks.Branch(t.Payee.BankCode, t.Payee.BranchCode); ok {
				branchName = zengin.ZenginName(b.Kana, zengin.BranchNameWidth)
			}
			zf.Records = append(zf.Records, zengin.Transfer{BankCode: t.Payee.BankCode, BankName: bankName,
				BranchCode: t.Payee.BranchCode, BranchName: branchName,
				AccountType: zengin.AccountType(typ), AccountNumber: t.Payee.AccountNumber, PayeeName: t.Payee.Name,
				Amount: t.Sent(), CustomerCode1: t.CustomerCode1, CustomerCode2: t.CustomerCode2})
			f.TransferIDs = append(f.TransferIDs, t.ID)
			f.Total += t.Sent()
		}
		var buf bytes.Buffer
		if err := zengin.Write(&buf, zf, r.Options); err != nil {
			return nil, fmt.Errorf("banking: interbank export: account %s-%s: %w", a.BranchCode, a.Number, err)
		}
		f.Data = buf.Bytes()
		files = append(files, f)
	}
	return files, nil
}
