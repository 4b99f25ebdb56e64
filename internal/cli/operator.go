package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os/user"
	"text/tabwriter"
	"time"

	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/notify"
	"kinko/internal/operators"
	"kinko/internal/server"
	"kinko/internal/store"
)

// operatorCtx is what every operator command has.
type operatorCtx struct {
	env      Env
	db       *store.DB
	identity *identity.Service
	certs    *certs.Service
	bank     *banking.Service
	ops      *operators.Service
	operator string
	json     bool
	dataDir  string // --data, "" when only --db was given
}

type operatorFlags struct {
	data, db, operator, bankName string
	json                         bool
}

func (o *operatorFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.data, "data", o.data, "data directory (SQLite database)")
	fs.StringVar(&o.db, "db", o.db, "PostgreSQL DSN")
	fs.StringVar(&o.operator, "operator", o.operator, "the acting operator, one of the bank's staff (default: the OS user)")
	fs.StringVar(&o.bankName, "bank-name", o.bankName, "ignored: the mails an action causes are composed, and signed with its bank_name, by the server that sends them")
	fs.BoolVar(&o.json, "json", o.json, "machine-readable output")
}

// runOperator is "kinko operator": the bank's operators act on written
// requests, on the database (also while servers run). An action that
// changes a customer's security or money is filed as a request that a
// second operator approves (package operators); every filing, decision and
// action is audited with the operators' names and the request's reference.
func runOperator(ctx context.Context, args []string, env Env) error {
	var of operatorFlags
	fs := newFlags("operator", env)
	of.register(fs)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, `Usage: kinko operator --data DIR|--db DSN [--operator NAME] [--bank-name NAME] [--json] <command>

--operator names one of the bank's operators (staff); the default is the OS
user, who must then be staff. --json prints results, and errors, as JSON.

Actions that change a customer's security or money are written requests:
the command FILES the request, and it takes effect only when a second
operator with the approver role (承認者) approves it (request approve).
  org create --name N --master-login-id ID --master-email E [--master-name NAME] --request-ref REF
  org certificate-login --org CODE --enable|--disable --request-ref REF
  cert revoke --serial HEX --reason R --request-ref REF
  user unlock --login-id ID --request-ref REF
  user reset-password --login-id ID --request-ref REF      (a master user's passwords)
  account deposit --account ID|--branch B --number N [--type T] --amount YEN --description ﾃｷｽﾄ --request-ref REF
  limit set --org CODE --daily YEN --request-ref REF

Written requests:
  request list [--status pending|approved|rejected|failed] [--org CODE] [--kind K] [--limit N]
  request show ID
  request approve ID
  request reject ID --reason TEXT

Direct (no second operator):
  org list
  cert list [--org CODE]
  account open --org CODE --type ordinary|current --branch 001 --number 1234567 --holder ｶﾅ --request-ref REF
  account list [--org CODE]
  interbank export --date YYYY-MM-DD --out FILE [--crlf] [--eof] [--bank-code 2950]
  banks import --file zengin-code-VERSION.tgz
  staff list
  staff add --name NAME --display-name NAME --role clerk|approver|auditor [--out FILE.p12]
`)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) < 2 {
		fs.Usage()
		return usageErr("a command is required")
	}
	commands := map[string]func(context.Context, Env, operatorFlags, []string) error{
		"org create":            opOrgCreate,
		"org certificate-login": opOrgCertificateLogin,
		"org list":              opOrgList,
		"cert revoke":           opCertRevoke,
		"cert list":             opCertList,
		"user unlock":           opUserUnlock,
		"user reset-password":   opUserResetPassword,
		"request list":          opRequestList,
		"request show":          opRequestShow,
		"request approve":       opRequestApprove,
		"request reject":        opRequestReject,
		"staff list":            opStaffList,
		"staff add":             opStaffAdd,
		"account open":          opAccountOpen,
		"account list":          opAccountList,
		"account deposit":       opAccountDeposit,
		"limit set":             opLimitSet,
		"interbank export":      opInterbankExport,
		"banks import":          opBanksImport,
	}
	name := rest[0] + " " + rest[1]
	cmd, ok := commands[name]
	if !ok {
		fs.Usage()
		return usageErr("unknown command %q", name)
	}
	return cmd(ctx, env, of, rest[2:])
}

// parse parses a command's flags, the common ones included, and opens the
// database.
func (of operatorFlags) parse(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (*operatorCtx, error) {
	of.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageErr("unexpected arguments %q", fs.Args())
	}
	if of.data == "" && of.db == "" {
		return nil, usageErr("--data or --db is required")
	}
	if of.operator == "" {
		if u, err := user.Current(); err == nil {
			of.operator = u.Username
		} else {
			of.operator = env.Getenv("USER")
		}
	}
	db, err := store.Open(ctx, dsnFor(of.data, of.db))
	if err != nil {
		return nil, err
	}
	db.SetMailRules(notify.Rules{})
	ident, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: identity.DefaultParams}})
	if err != nil {
		db.Close()
		return nil, err
	}
	oc := &operatorCtx{env: env, db: db, identity: ident, operator: of.operator, json: of.json, dataDir: of.data,
		certs: certs.New(certs.Config{Store: db.Certs(), Identity: ident})}
	if oc.bank, err = newBanking(db, ident, ""); err != nil {
		db.Close()
		return nil, err
	}
	oc.ops, err = operators.New(operators.Config{Store: db,
		Actions: server.OperatorActions{Identity: ident, Certs: oc.certs, Banking: oc.bank}})
	if err != nil {
		db.Close()
		return nil, err
	}
	return oc, nil
}

func (oc *operatorCtx) printJSON(v any) error {
	enc := json.NewEncoder(oc.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func opOrgCreate(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator org create", env)
	name := fs.String("name", "", "organization name")
	loginID := fs.String("master-login-id", "", "the master user's login ID")
	email := fs.String("master-email", "", "the master user's e-mail address")
	masterName := fs.String("master-name", operators.DefaultMasterName, "the master user's name")
	ref := fs.String("request-ref", "", "reference of the application form (利用申込書)")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *name == "" || *loginID == "" || *email == "" || *ref == "" {
		return usageErr("--name, --master-login-id, --master-email and --request-ref are required")
	}
	return oc.file(ctx, operators.KindOrganizationCreate, *ref, operators.OrganizationCreate{
		Name: *name, MasterLoginID: *loginID, MasterName: *masterName, MasterEmail: *email})
}

func opOrgCertificateLogin(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator org certificate-login", env)
	code := fs.String("org", "", "organization code")
	enable := fs.Bool("enable", false, "enable certificate login (the organization's written application)")
	disable := fs.Bool("disable", false, "disable certificate login")
	ref := fs.String("request-ref", "", "reference of the written request")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *code == "" || *enable == *disable || *ref == "" {
		return usageErr("--org, --request-ref and one of --enable or --disable are required")
	}
	org, err := oc.identity.OrganizationByCode(ctx, *code)
	if err != nil {
		return explain(err)
	}
	if org.CertificateLogin == *enable {
		return explain(identity.ErrCertificateLoginUnchanged)
	}
	return oc.file(ctx, operators.KindCertificateLogin, *ref, operators.CertificateLogin{OrganizationCode: *code, Enable: *enable})
}

func opOrgList(ctx context.Context, env Env, of operatorFlags, args []string) error {
	oc, err := of.parse(ctx, env, newFlags("operator org list", env), args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	orgs, err := oc.identity.ListOrganizations(ctx)
	if err != nil {
		return err
	}
	if oc.json {
		out := make([]map[string]any, 0, len(orgs))
		for _, o := range orgs {
			out = append(out, map[string]any{"code": o.Code, "name": o.Name, "certificate_login": o.CertificateLogin, "created_at": o.CreatedAt.Format(time.RFC3339)})
		}
		return oc.printJSON(out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tCERTIFICATE LOGIN\tNAME")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%s\t%v\t%s\n", o.Code, o.CertificateLogin, o.Name)
	}
	return tw.Flush()
}

func opCertRevoke(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator cert revoke", env)
	serial := fs.String("serial", "", "certificate serial (hex)")
	reason := fs.String("reason", "", "unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation")
	ref := fs.String("request-ref", "", "reference of the written request")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *serial == "" || *reason == "" || *ref == "" {
		return usageErr("--serial, --reason and --request-ref are required")
	}
	if _, ok := certs.ReasonCode(*reason); !ok {
		return explain(certs.ErrInvalidReason)
	}
	c, err := oc.certs.BySerial(ctx, operators.NormalizeSerial(*serial))
	if err != nil {
		return explain(err)
	}
	if c.Status == certs.StatusRevoked {
		return explain(certs.ErrAlreadyRevoked)
	}
	return oc.file(ctx, operators.KindCertificateRevoke, *ref, operators.CertificateRevoke{Serial: c.Serial, Reason: *reason})
}

func opCertList(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator cert list", env)
	code := fs.String("org", "", "organization code (default: all)")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	var orgID int64
	if *code != "" {
		org, err := oc.identity.OrganizationByCode(ctx, *code)
		if err != nil {
			return explain(err)
		}
		orgID = org.ID
	}
	list, err := oc.certs.List(ctx, orgID)
	if err != nil {
		return err
	}
	now := time.Now()
	type row struct {
		Serial           string `json:"serial"`
		Organization     string `json:"organization"`
		LoginID          string `json:"login_id"`
		Status           string `json:"status"`
		NotBefore        string `json:"not_before"`
		NotAfter         string `json:"not_after"`
		RevokedAt        string `json:"revoked_at,omitempty"`
		RevocationReason string `json:"revocation_reason,omitempty"`
		RequestRef       string `json:"request_ref,omitempty"`
	}
	rows := make([]row, 0, len(list))
	for _, c := range list {
		u, org, err := oc.identity.UserByID(ctx, c.UserID)
		if err != nil {
			return err
		}
		status := string(c.Status)
		if c.Status == certs.StatusIssued {
			status = "active"
			if c.Expired(now) {
				status = "expired"
			}
		}
		r := row{Serial: c.Serial, Organization: org.Code, LoginID: u.LoginID, Status: status,
			NotBefore: c.NotBefore.Format(time.RFC3339), NotAfter: c.NotAfter.Format(time.RFC3339),
			RevocationReason: c.RevocationReason, RequestRef: c.RequestRef}
		if !c.RevokedAt.IsZero() {
			r.RevokedAt = c.RevokedAt.Format(time.RFC3339)
		}
		rows = append(rows, r)
	}
	if oc.json {
		return oc.printJSON(rows)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tORG\tLOGIN ID\tSTATUS\tNOT AFTER\tREVOKED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s %s\n", r.Serial, r.Organization, r.LoginID, r.Status, r.NotAfter, r.RevokedAt, r.RevocationReason)
	}
	return tw.Flush()
}

func opUserUnlock(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator user unlock", env)
	loginID := fs.String("login-id", "", "the user's login ID")
	ref := fs.String("request-ref", "", "reference of the written request")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *loginID == "" || *ref == "" {
		return usageErr("--login-id and --request-ref are required")
	}
	u, _, err := oc.identity.UserByLoginID(ctx, *loginID)
	if err != nil {
		return explain(err)
	}
	if !u.Locked() {
		return explain(identity.ErrNotLocked)
	}
	return oc.file(ctx, operators.KindUserUnlock, *ref, operators.UserUnlock{LoginID: u.LoginID})
}

// opUserResetPassword files the reset of a master user's passwords: new
// initial login and confirmation passwords, shown once to the approver.
func opUserResetPassword(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator user reset-password", env)
	loginID := fs.String("login-id", "", "the master user's login ID")
	ref := fs.String("request-ref", "", "reference of the written request (暗証番号再登録依頼書)")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *loginID == "" || *ref == "" {
		return usageErr("--login-id and --request-ref are required")
	}
	u, _, err := oc.identity.UserByLoginID(ctx, *loginID)
	if err != nil {
		return explain(err)
	}
	return oc.file(ctx, operators.KindPasswordReset, *ref, operators.PasswordReset{LoginID: u.LoginID})
}

// explain adds what an operator should know to a domain error.
func explain(err error) error {
	switch {
	case errors.Is(err, identity.ErrNotFound), errors.Is(err, certs.ErrNotFound):
		return fmt.Errorf("not found: check the code, login ID or serial (%w)", err)
	case errors.Is(err, identity.ErrCertificateLoginUnchanged):
		return fmt.Errorf("nothing to do: %w", err)
	case errors.Is(err, banking.ErrNotFound):
		return fmt.Errorf("not found: check the organization code or the account (%w)", err)
	case errors.Is(err, operators.ErrRefUsed), errors.Is(err, banking.ErrDepositRefUsed):
		return fmt.Errorf("%w: each written request's reference is used once per kind of request; check the form's reference", err)
	case errors.Is(err, identity.ErrPasswordResetByMaster):
		return fmt.Errorf("%w: only a master user's passwords are reset by the bank; a general user asks the organization's master user", err)
	}
	return err
}
