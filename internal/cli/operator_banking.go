package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/zengin"
)

// newBanking returns the banking service on db, built as the server builds
// it (names converted to Zengin kana), for the bank's own commands.
func newBanking(db *store.DB, ident *identity.Service, bankCode string) (*banking.Service, error) {
	if bankCode == "" {
		bankCode = server.DefaultBankCode
	}
	return banking.New(banking.Config{Store: db, Identity: ident, BankCode: bankCode, NormalizeName: zengin.NormalizeKana})
}

// banking returns the banking service of an operator command.
func (oc *operatorCtx) banking() (*banking.Service, error) { return oc.bank, nil }

// parseYen parses an amount of yen: digits, optionally grouped with commas
// or underscores ("1,200,000").
func parseYen(flagName, s string) (int64, error) {
	clean := strings.NewReplacer(",", "", "_", "").Replace(strings.TrimSpace(s))
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil || clean == "" || clean[0] == '+' || clean[0] == '-' {
		return 0, usageErr("--%s %q: want a whole number of yen, such as 120000", flagName, s)
	}
	return n, nil
}

// yen formats an amount with thousands separators: "1,200,000 yen".
func yen(n int64) string { return groupDigits(n) + " yen" }

func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// explainBanking adds what an operator should know to a banking error.
func explainBanking(err error) error {
	switch {
	case errors.Is(err, banking.ErrNotFound), errors.Is(err, identity.ErrNotFound):
		return fmt.Errorf("not found: check the organization code or the account (%w)", err)
	case errors.Is(err, banking.ErrAccountExists):
		return fmt.Errorf("an account with this branch, type and number exists already (%w)", err)
	case errors.Is(err, banking.ErrInvalidAccount):
		return fmt.Errorf("%w (the branch is 3 digits, the number 7 digits, the type ordinary or current, the holder in kana)", err)
	case errors.Is(err, banking.ErrRequestRefRequired):
		return usageErr("--request-ref is required: the reference of the written request")
	case errors.Is(err, banking.ErrInvalidAmount):
		return fmt.Errorf("%w (1 to %s yen)", err, groupDigits(banking.MaxAmount))
	}
	return err
}

// accountType parses --type.
func accountType(s string) (banking.AccountType, error) {
	switch t := banking.AccountType(s); t {
	case banking.Ordinary, banking.Current:
		return t, nil
	}
	return "", usageErr("--type %q: want ordinary (普通) or current (当座)", s)
}

// accountJSON is an account in --json output.
type accountJSON struct {
	ID           int64  `json:"id"`
	Organization string `json:"organization"`
	Type         string `json:"type"`
	Branch       string `json:"branch"`
	Number       string `json:"number"`
	Holder       string `json:"holder"`
	Balance      int64  `json:"balance"`
	OpenedAt     string `json:"opened_at"`
}

func toAccountJSON(orgCode string, a banking.Account) accountJSON {
	return accountJSON{ID: a.ID, Organization: orgCode, Type: string(a.Type), Branch: a.BranchCode, Number: a.Number,
		Holder: a.HolderName, Balance: a.Balance, OpenedAt: a.OpenedAt.UTC().Format(time.RFC3339)}
}

func opAccountOpen(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator account open", env)
	code := fs.String("org", "", "organization code")
	typ := fs.String("type", "ordinary", "ordinary (普通) or current (当座)")
	branch := fs.String("branch", "", "branch code, 3 digits")
	number := fs.String("number", "", "account number, 7 digits")
	holder := fs.String("holder", "", "holder name in kana (口座名義, converted to half-width)")
	ref := fs.String("request-ref", "", "reference of the application (口座開設申込書)")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *code == "" || *branch == "" || *number == "" || *holder == "" || *ref == "" {
		return usageErr("--org, --branch, --number, --holder and --request-ref are required")
	}
	t, err := accountType(*typ)
	if err != nil {
		return err
	}
	if _, err := oc.clerk(ctx); err != nil {
		return err
	}
	svc, err := oc.banking()
	if err != nil {
		return err
	}
	a, err := svc.OpenAccount(ctx, *code, t, *branch, *number, *holder, oc.operator, *ref)
	if err != nil {
		return explainBanking(err)
	}
	if oc.json {
		return oc.printJSON(toAccountJSON(*code, a))
	}
	fmt.Fprintf(env.Stdout, "Account %d opened for organization %s: %s %s-%s %s (request %s).\n",
		a.ID, *code, a.Type.Label(), a.BranchCode, a.Number, a.HolderName, *ref)
	return nil
}

func opAccountList(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator account list", env)
	code := fs.String("org", "", "organization code (default: all)")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	svc, err := oc.banking()
	if err != nil {
		return err
	}
	var codes []string
	if *code != "" {
		codes = []string{*code}
	} else {
		orgs, err := oc.identity.ListOrganizations(ctx)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			codes = append(codes, o.Code)
		}
	}
	rows := []accountJSON{}
	for _, c := range codes {
		accts, err := svc.OrganizationAccounts(ctx, c)
		if err != nil {
			return explainBanking(err)
		}
		for _, a := range accts {
			rows = append(rows, toAccountJSON(c, a))
		}
	}
	if oc.json {
		return oc.printJSON(rows)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tORG\tTYPE\tBRANCH\tNUMBER\tHOLDER\tBALANCE (YEN)")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Organization, r.Type, r.Branch, r.Number, r.Holder, groupDigits(r.Balance))
	}
	return tw.Flush()
}

func opAccountDeposit(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator account deposit", env)
	id := fs.Int64("account", 0, "account ID (or --branch and --number)")
	branch := fs.String("branch", "", "branch code, 3 digits")
	number := fs.String("number", "", "account number, 7 digits")
	typ := fs.String("type", "ordinary", "with --branch and --number: ordinary (普通) or current (当座)")
	amount := fs.String("amount", "", "amount in yen")
	desc := fs.String("description", "", "description on the statement (摘要), such as the sender's name in kana")
	ref := fs.String("request-ref", "", "reference of the incoming transfer or slip")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	byNumber := *branch != "" || *number != ""
	if (*id != 0) == byNumber || (byNumber && (*branch == "" || *number == "")) {
		return usageErr("give --account ID, or --branch and --number")
	}
	if *amount == "" || *desc == "" || *ref == "" {
		return usageErr("--amount, --description and --request-ref are required")
	}
	n, err := parseYen("amount", *amount)
	if err != nil {
		return err
	}
	if n <= 0 || n > banking.MaxAmount {
		return explainBanking(banking.ErrInvalidAmount)
	}
	var a banking.Account
	if byNumber {
		t, err := accountType(*typ)
		if err != nil {
			return err
		}
		a, err = oc.bank.LookupAccount(ctx, *branch, t, *number)
		if err != nil {
			return explainBanking(err)
		}
	} else if a, err = oc.db.AccountByID(ctx, *id); err != nil {
		return explainBanking(err)
	}
	return oc.file(ctx, operators.KindDeposit, *ref, operators.Deposit{BranchCode: a.BranchCode, AccountType: string(a.Type),
		AccountNumber: a.Number, Amount: n, Description: *desc})
}

func opLimitSet(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator limit set", env)
	code := fs.String("org", "", "organization code")
	daily := fs.String("daily", "", "the organization's daily limit of approved transfers, in yen")
	ref := fs.String("request-ref", "", "reference of the written request")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *code == "" || *daily == "" || *ref == "" {
		return usageErr("--org, --daily and --request-ref are required")
	}
	n, err := parseYen("daily", *daily)
	if err != nil {
		return err
	}
	if n > banking.MaxLimit {
		return explainBanking(fmt.Errorf("%w: limit must be 0..%d", banking.ErrInvalidAmount, banking.MaxLimit))
	}
	return oc.file(ctx, operators.KindLimitSet, *ref, operators.LimitSet{OrganizationCode: *code, Daily: n})
}

// interbankFile is one outgoing 総合振込 file in --json output.
type interbankFile struct {
	Path         string  `json:"file"`
	Organization string  `json:"organization"`
	Branch       string  `json:"branch"`
	Type         string  `json:"type"`
	Number       string  `json:"number"`
	Count        int     `json:"count"`
	Total        int64   `json:"total"`
	TransferIDs  []int64 `json:"transfer_ids"`
}

// interbankDir writes the files of an interbank export: with one file, to
// out; with several, each to out with "-BRANCH-TYPE-NUMBER" before its
// extension. Nothing is overwritten.
type interbankDir struct {
	out   string
	paths map[string]string // by the name recorded
}

// kindSuffix tells a payroll file (給与振込, 賞与振込) from the 総合振込 file
// of the same account in the files' names.
func kindSuffix(k banking.BatchKind) string {
	if k.Payroll() {
		return "-" + string(k)
	}
	return ""
}

// Place names the files and refuses if any of them exists.
func (d *interbankDir) Place(files []banking.InterbankFile) error {
	d.paths = map[string]string{}
	for i := range files {
		a := files[i].Account
		path := d.out
		if len(files) > 1 {
			ext := filepath.Ext(d.out)
			path = strings.TrimSuffix(d.out, ext) + "-" + a.BranchCode + "-" + string(a.Type) + "-" + a.Number + kindSuffix(files[i].Kind) + ext
		}
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s exists already: nothing written (move it away or choose another --out)", path)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		files[i].Name = filepath.Base(path)
		d.paths[files[i].Name] = path
	}
	return nil
}

// Write writes a file that must not exist yet.
func (d *interbankDir) Write(f banking.InterbankFile) error {
	return writeNewFile(d.paths[f.Name], f.Data)
}

// Remove removes a written file.
func (d *interbankDir) Remove(f banking.InterbankFile) error { return os.Remove(d.paths[f.Name]) }

// opInterbankExport writes the executed transfers to other banks that are
// dated on or before --date and not yet sent as 総合振込 files, one file per
// account they were paid from (the header names one requester and one
// account), and records them as sent. With one account the file is --out;
// with several, each is --out with "-BRANCH-TYPE-NUMBER" before its
// extension.
// The header's 振込指定日 is --date, also for a transfer dated earlier and
// not sent on its day. Nothing is overwritten: if any of the files exists,
// nothing is written.
func opInterbankExport(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator interbank export", env)
	date := fs.String("date", "", "the day of the file, YYYY-MM-DD (Japan): transfers dated on or before it")
	out := fs.String("out", "", "the file to write; one file per paying account, see the help")
	crlf := fs.Bool("crlf", false, "end every record with CR LF")
	eof := fs.Bool("eof", false, "end the file with an EOF byte (0x1A)")
	bankCode := fs.String("bank-code", server.DefaultBankCode, "this bank's code (仕向銀行番号)")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *date == "" || *out == "" {
		return usageErr("--date and --out are required")
	}
	day, err := calendar.ParseDate(*date)
	if err != nil {
		return usageErr("--date %q: want YYYY-MM-DD", *date)
	}
	svc, err := newBanking(oc.db, oc.identity, *bankCode)
	if err != nil {
		return usageErr("--bank-code %q: want 4 digits", *bankCode)
	}
	if _, err := oc.clerk(ctx); err != nil {
		return err
	}
	dir := &interbankDir{out: *out}
	files, err := svc.ExportInterbank(ctx, banking.InterbankExport{Through: day, Operator: oc.operator,
		Options: zengin.WriteOptions{CRLF: *crlf, EOF: *eof}}, dir)
	rows := []interbankFile{}
	var total int64
	for _, f := range files {
		a := f.Account
		rows = append(rows, interbankFile{Path: dir.paths[f.Name], Organization: f.OrganizationCode, Branch: a.BranchCode,
			Type: string(a.Type), Number: a.Number, Count: f.Count(), Total: f.Total, TransferIDs: f.TransferIDs})
		total += f.Total
		if !oc.json {
			fmt.Fprintf(env.Stdout, "Wrote %s: %d transfers, total %s, from account %s-%s of organization %s.\n",
				dir.paths[f.Name], f.Count(), yen(f.Total), a.BranchCode, a.Number, f.OrganizationCode)
		}
	}
	if err != nil {
		return err
	}
	if oc.json {
		return oc.printJSON(rows)
	}
	if len(files) == 0 {
		fmt.Fprintf(env.Stdout, "No transfers to other banks are waiting to be sent for %s; no file written.\n", day)
		return nil
	}
	var count int
	for _, r := range rows {
		count += r.Count
	}
	fmt.Fprintf(env.Stdout, "%d file(s), %d transfers, total %s, marked sent (総合振込 %s).\n", len(files), count, yen(total), day)
	return nil
}

// writeNewFile writes data to a file that must not exist yet, and syncs it.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
