package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/notify"
	"kinko/internal/store"
)

// operatorCtx is what every operator command has.
type operatorCtx struct {
	env      Env
	db       *store.DB
	identity *identity.Service
	certs    *certs.Service
	operator string
	json     bool
}

type operatorFlags struct {
	data, db, operator, bankName string
	json                         bool
}

func (o *operatorFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.data, "data", o.data, "data directory (SQLite database)")
	fs.StringVar(&o.db, "db", o.db, "PostgreSQL DSN")
	fs.StringVar(&o.operator, "operator", o.operator, "operator name for the audit log (default: the OS user)")
	fs.StringVar(&o.bankName, "bank-name", o.bankName, "ignored: the mails an action causes are composed, and signed with its bank_name, by the server that sends them")
	fs.BoolVar(&o.json, "json", o.json, "machine-readable output")
}

// runOperator is "kinko operator": the bank's operators act on written
// requests, directly on the database (also while servers run). Every action
// is audited with the operator's name and the request's reference.
func runOperator(ctx context.Context, args []string, env Env) error {
	var of operatorFlags
	fs := newFlags("operator", env)
	of.register(fs)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, `Usage: kinko operator --data DIR|--db DSN [--operator NAME] [--bank-name NAME] [--json] <command>

Commands:
  org create --name N --master-login-id ID --master-email E [--master-name NAME] [--request-ref REF]
  org certificate-login --org CODE --enable|--disable --request-ref REF
  org list
  cert revoke --serial HEX --reason R --request-ref REF
  cert list [--org CODE]
  user unlock --login-id ID [--request-ref REF]
  account open --org CODE --type ordinary|current --branch 001 --number 1234567 --holder ｶﾅ --request-ref REF
  account list [--org CODE]
  account deposit --account ID|--branch B --number N [--type T] --amount YEN --description ﾃｷｽﾄ --request-ref REF
  limit set --org CODE --daily YEN --request-ref REF
  interbank export --date YYYY-MM-DD --out FILE [--crlf] [--eof] [--bank-code 2950]
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
		"account open":          opAccountOpen,
		"account list":          opAccountList,
		"account deposit":       opAccountDeposit,
		"limit set":             opLimitSet,
		"interbank export":      opInterbankExport,
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
	return &operatorCtx{env: env, db: db, identity: ident, operator: of.operator, json: of.json,
		certs: certs.New(certs.Config{Store: db.Certs(), Identity: ident})}, nil
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
	masterName := fs.String("master-name", "マスターユーザ", "the master user's name")
	ref := fs.String("request-ref", "", "reference of the application form (利用申込書)")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *name == "" || *loginID == "" || *email == "" {
		return usageErr("--name, --master-login-id and --master-email are required")
	}
	org, master, pw, err := oc.identity.CreateOrganization(ctx, identity.NewOrganization{
		Name: *name, MasterLoginID: *loginID, MasterName: *masterName, MasterEmail: *email, RequestRef: *ref}, operatorActor(oc))
	if err != nil {
		return explain(err)
	}
	if oc.json {
		return oc.printJSON(map[string]any{"code": org.Code, "name": org.Name, "certificate_login": org.CertificateLogin,
			"master": map[string]string{"login_id": master.LoginID, "email": master.Email,
				"password": pw.Password, "confirmation_password": pw.ConfirmationPassword}})
	}
	fmt.Fprintf(env.Stdout, "Organization %s %q created (certificate login off).\n", org.Code, org.Name)
	fmt.Fprintf(env.Stdout, "Master user %s: initial login password %s, confirmation password %s\n", master.LoginID, pw.Password, pw.ConfirmationPassword)
	fmt.Fprintln(env.Stdout, "These passwords are shown only now; the master user must change them at the first login.")
	return nil
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
	org, err := oc.identity.SetCertificateLogin(ctx, *code, *enable, operatorActor(oc), *ref)
	if err != nil {
		return explain(err)
	}
	if oc.json {
		return oc.printJSON(map[string]any{"code": org.Code, "name": org.Name, "certificate_login": org.CertificateLogin})
	}
	state := "disabled"
	if org.CertificateLogin {
		state = "enabled: ID+password login no longer works for its users"
	}
	fmt.Fprintf(env.Stdout, "Certificate login for %s %q %s (request %s).\n", org.Code, org.Name, state, *ref)
	return nil
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
	s := strings.TrimLeft(strings.ToLower(strings.ReplaceAll(*serial, ":", "")), "0")
	c, err := oc.certs.RevokeByBank(ctx, s, *reason, oc.operator, *ref)
	if err != nil {
		return explain(err)
	}
	if oc.json {
		return oc.printJSON(map[string]string{"serial": c.Serial, "revoked_at": c.RevokedAt.Format(time.RFC3339), "reason": c.RevocationReason, "request_ref": c.RequestRef})
	}
	fmt.Fprintf(env.Stdout, "Certificate %s revoked (%s, request %s) at %s; its sessions have ended.\n", c.Serial, c.RevocationReason, c.RequestRef, c.RevokedAt.Format(time.RFC3339))
	return nil
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
	if *loginID == "" {
		return usageErr("--login-id is required")
	}
	if err := oc.identity.UnlockByBank(ctx, *loginID, oc.operator, *ref); err != nil {
		return explain(err)
	}
	if oc.json {
		return oc.printJSON(map[string]any{"login_id": *loginID, "locked": false})
	}
	fmt.Fprintf(env.Stdout, "User %s unlocked.\n", *loginID)
	return nil
}

func operatorActor(oc *operatorCtx) string { return audit.OperatorActor(oc.operator) }

// explain adds what an operator should know to a domain error.
func explain(err error) error {
	switch {
	case errors.Is(err, identity.ErrNotFound), errors.Is(err, certs.ErrNotFound):
		return fmt.Errorf("not found: check the code, login ID or serial (%w)", err)
	case errors.Is(err, identity.ErrCertificateLoginUnchanged):
		return fmt.Errorf("nothing to do: %w", err)
	}
	return err
}
