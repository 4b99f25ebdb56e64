package cli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/pki"
	"kinko/internal/server"
)

// errNotStaff: --operator (or the OS user) is not an active operator.
var errNotStaff = errors.New("not one of the bank's operators")

// staff returns the acting operator, who must be an active member of the
// bank's staff.
func (oc *operatorCtx) staff(ctx context.Context) (operators.Staff, error) {
	st, err := oc.ops.StaffByName(ctx, oc.operator)
	if errors.Is(err, operators.ErrNotFound) {
		return operators.Staff{}, fmt.Errorf("%w: %q is not staff; name an operator with --operator (kinko operator staff list)", errNotStaff, oc.operator)
	}
	if err != nil {
		return operators.Staff{}, err
	}
	if !st.Active() {
		return operators.Staff{}, fmt.Errorf("%w: operator %q is disabled", errNotStaff, st.Name)
	}
	return st, nil
}

// clerk returns the acting operator of a direct action (opening an
// account, an interbank export): an active clerk or approver; an auditor
// only reads.
func (oc *operatorCtx) clerk(ctx context.Context) (operators.Staff, error) {
	st, err := oc.staff(ctx)
	if err != nil {
		return operators.Staff{}, err
	}
	if !st.MayFile() {
		return operators.Staff{}, fmt.Errorf("%w: %s (%s) only reads", operators.ErrForbidden, st.Name, operators.RoleLabel(st.Role))
	}
	return st, nil
}

// requestJSON is a written request in --json output.
type requestJSON struct {
	ID           int64           `json:"id"`
	Kind         string          `json:"kind"`
	Ref          string          `json:"ref"`
	Organization string          `json:"organization,omitempty"`
	Params       json.RawMessage `json:"params"`
	Status       string          `json:"status"`
	Maker        string          `json:"maker"`
	Checker      string          `json:"checker,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	Result       json.RawMessage `json:"result,omitempty"`
	FiledAt      string          `json:"filed_at"`
	DecidedAt    string          `json:"decided_at,omitempty"`
}

func toRequestJSON(r operators.Request) requestJSON {
	j := requestJSON{ID: r.ID, Kind: string(r.Kind), Ref: r.Ref, Organization: r.OrganizationCode, Params: r.Params,
		Status: string(r.Status), Maker: r.Maker, Checker: r.Checker, Reason: r.Reason, Result: r.Result,
		FiledAt: r.FiledAt.UTC().Format(time.RFC3339)}
	if !r.DecidedAt.IsZero() {
		j.DecidedAt = r.DecidedAt.UTC().Format(time.RFC3339)
	}
	return j
}

// file files a written request as the acting operator and says that it
// waits for a second operator.
func (oc *operatorCtx) file(ctx context.Context, kind operators.Kind, ref string, params any) error {
	maker, err := oc.staff(ctx)
	if err != nil {
		return err
	}
	r, err := oc.ops.File(ctx, maker, kind, ref, params)
	if err != nil {
		return explain(err)
	}
	if oc.json {
		return oc.printJSON(toRequestJSON(r))
	}
	fmt.Fprintf(oc.env.Stdout, "request %d filed: waits for approval by a second operator (承認者)\n", r.ID)
	fmt.Fprintf(oc.env.Stdout, "  %s, reference %s, organization %s, filed by %s\n", r.Kind, r.Ref, orNone(r.OrganizationCode), r.Maker)
	fmt.Fprintf(oc.env.Stdout, "  another operator with the approver role runs: kinko operator request approve %d\n", r.ID)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(new)"
	}
	return s
}

// requestID parses the one argument of request show, approve and reject.
func requestID(fs *flag.FlagSet, args []string) (int64, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return 0, nil, usageErr("the request's ID is required: kinko operator %s ID", strings.TrimPrefix(fs.Name(), "kinko operator "))
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, usageErr("request ID %q: want a number, as request list shows it", args[0])
	}
	return id, args[1:], nil
}

func opRequestList(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator request list", env)
	status := fs.String("status", "", "pending, approved, rejected or failed (default: all)")
	org := fs.String("org", "", "organization code")
	kind := fs.String("kind", "", "organization_create, certificate_login, certificate_revoke, user_unlock, password_reset, deposit or limit_set")
	limit := fs.Int("limit", 100, "at most this many, newest first (up to 1000)")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	switch operators.Status(*status) {
	case "", operators.StatusPending, operators.StatusApproved, operators.StatusRejected, operators.StatusFailed:
	default:
		return usageErr("--status %q: want pending, approved, rejected or failed", *status)
	}
	list, err := oc.ops.List(ctx, operators.Filter{Status: operators.Status(*status), Kind: operators.Kind(*kind), OrganizationCode: *org, Limit: *limit})
	if err != nil {
		return err
	}
	if oc.json {
		rows := make([]requestJSON, 0, len(list))
		for _, r := range list {
			rows = append(rows, toRequestJSON(r))
		}
		return oc.printJSON(rows)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tREF\tORG\tSTATUS\tMAKER\tCHECKER\tFILED")
	for _, r := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Ref, r.OrganizationCode, r.Status, r.Maker, r.Checker,
			r.FiledAt.In(japan).Format("2006-01-02 15:04 JST"))
	}
	return tw.Flush()
}

// japan is Japan Standard Time, for the times operators read.
var japan = time.FixedZone("JST", 9*60*60)

func opRequestShow(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator request show", env)
	id, rest, err := requestID(fs, args)
	if err != nil {
		return err
	}
	oc, err := of.parse(ctx, env, fs, rest)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	r, err := oc.ops.Get(ctx, id)
	if err != nil {
		return explain(err)
	}
	if oc.json {
		return oc.printJSON(toRequestJSON(r))
	}
	printRequest(env, r)
	return nil
}

func printRequest(env Env, r operators.Request) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Request\t%d\n", r.ID)
	fmt.Fprintf(tw, "Kind\t%s\n", r.Kind)
	fmt.Fprintf(tw, "Reference\t%s\n", r.Ref)
	fmt.Fprintf(tw, "Organization\t%s\n", orNone(r.OrganizationCode))
	fmt.Fprintf(tw, "Parameters\t%s\n", r.Params)
	fmt.Fprintf(tw, "Status\t%s\n", r.Status)
	fmt.Fprintf(tw, "Filed\t%s by %s\n", r.FiledAt.In(japan).Format("2006-01-02 15:04:05 JST"), r.Maker)
	if !r.DecidedAt.IsZero() {
		fmt.Fprintf(tw, "Decided\t%s by %s\n", r.DecidedAt.In(japan).Format("2006-01-02 15:04:05 JST"), r.Checker)
	}
	if r.Reason != "" {
		fmt.Fprintf(tw, "Reason\t%s\n", r.Reason)
	}
	if len(r.Result) > 0 {
		fmt.Fprintf(tw, "Result\t%s\n", r.Result)
	}
	tw.Flush()
}

func opRequestReject(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator request reject", env)
	reason := fs.String("reason", "", "why the request is rejected (kept on the request and in the audit log)")
	id, rest, err := requestID(fs, args)
	if err != nil {
		return err
	}
	oc, err := of.parse(ctx, env, fs, rest)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if strings.TrimSpace(*reason) == "" {
		return usageErr("--reason is required")
	}
	checker, err := oc.staff(ctx)
	if err != nil {
		return err
	}
	r, err := oc.ops.Reject(ctx, checker, id, *reason)
	if err != nil {
		return explain(err)
	}
	if oc.json {
		return oc.printJSON(toRequestJSON(r))
	}
	fmt.Fprintf(env.Stdout, "request %d (%s, %s) rejected by %s: %s; nothing was done.\n", r.ID, r.Kind, r.Ref, r.Checker, r.Reason)
	return nil
}

// opRequestApprove approves a request filed by another operator, carries
// out its action and prints what it did; the initial passwords of a new
// organization's master, or of a reset, are shown now and never again.
func opRequestApprove(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator request approve", env)
	id, rest, err := requestID(fs, args)
	if err != nil {
		return err
	}
	oc, err := of.parse(ctx, env, fs, rest)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	checker, err := oc.staff(ctx)
	if err != nil {
		return err
	}
	r, out, err := oc.ops.Approve(ctx, checker, id)
	if errors.Is(err, operators.ErrActionFailed) {
		return fmt.Errorf("request %d failed, nothing was done: %w", r.ID, explain(err))
	}
	if err != nil {
		return explain(err)
	}
	result, text := oc.outcome(ctx, r, out)
	if oc.json {
		return oc.printJSON(map[string]any{"request": toRequestJSON(r), "result": result})
	}
	fmt.Fprintf(env.Stdout, "request %d (%s, %s) approved by %s; filed by %s.\n", r.ID, r.Kind, r.Ref, r.Checker, r.Maker)
	fmt.Fprint(env.Stdout, text)
	return nil
}

// outcome describes what an approved request's action did, as JSON and as
// text.
func (oc *operatorCtx) outcome(ctx context.Context, r operators.Request, out operators.Outcome) (any, string) {
	var b strings.Builder
	switch r.Kind {
	case operators.KindOrganizationCreate:
		var p operators.OrganizationCreate
		_ = json.Unmarshal(r.Params, &p)
		pw := identity.InitialPasswords{}
		if out.Passwords != nil {
			pw = *out.Passwords
		}
		fmt.Fprintf(&b, "Organization %s %q created (certificate login off).\n", out.OrganizationCode, p.Name)
		fmt.Fprintf(&b, "Master user %s: initial login password %s, confirmation password %s\n", out.LoginID, pw.Password, pw.ConfirmationPassword)
		fmt.Fprintln(&b, "These passwords are shown only now; the master user must change them at the first login.")
		return map[string]any{"code": out.OrganizationCode, "name": p.Name, "certificate_login": false,
			"master": map[string]string{"login_id": out.LoginID, "email": p.MasterEmail,
				"password": pw.Password, "confirmation_password": pw.ConfirmationPassword}}, b.String()
	case operators.KindCertificateLogin:
		var p operators.CertificateLogin
		_ = json.Unmarshal(r.Params, &p)
		org, _ := oc.identity.OrganizationByCode(ctx, p.OrganizationCode)
		state := "disabled"
		if p.Enable {
			state = "enabled: ID+password login no longer works for its users"
		}
		fmt.Fprintf(&b, "Certificate login for %s %q %s (request %s).\n", p.OrganizationCode, org.Name, state, r.Ref)
		return map[string]any{"code": p.OrganizationCode, "name": org.Name, "certificate_login": p.Enable}, b.String()
	case operators.KindCertificateRevoke:
		var p operators.CertificateRevoke
		_ = json.Unmarshal(r.Params, &p)
		c, _ := oc.certs.BySerial(ctx, p.Serial)
		u, org, _ := oc.identity.UserByID(ctx, c.UserID)
		fmt.Fprintf(&b, "Certificate %s revoked (%s, request %s) at %s; its sessions have ended.\n", c.Serial, c.RevocationReason, c.RequestRef, c.RevokedAt.Format(time.RFC3339))
		fmt.Fprintf(&b, "It was the certificate of the %s user %s of organization %s.\n", u.Role, u.LoginID, org.Code)
		return map[string]string{"serial": c.Serial, "revoked_at": c.RevokedAt.Format(time.RFC3339), "reason": c.RevocationReason,
			"request_ref": c.RequestRef, "login_id": u.LoginID, "role": string(u.Role), "organization": org.Code}, b.String()
	case operators.KindUserUnlock:
		fmt.Fprintf(&b, "User %s unlocked.\n", out.LoginID)
		return map[string]any{"login_id": out.LoginID, "locked": false}, b.String()
	case operators.KindPasswordReset:
		pw := identity.InitialPasswords{}
		if out.Passwords != nil {
			pw = *out.Passwords
		}
		fmt.Fprintf(&b, "Passwords of master user %s reset: initial login password %s, confirmation password %s\n", out.LoginID, pw.Password, pw.ConfirmationPassword)
		fmt.Fprintln(&b, "These passwords are shown only now (暗証番号通知書); the master user must change both at the next login. The user's sessions have ended and the lock is cleared.")
		return map[string]any{"login_id": out.LoginID, "password": pw.Password, "confirmation_password": pw.ConfirmationPassword,
			"change_required": true}, b.String()
	case operators.KindDeposit:
		var p operators.Deposit
		_ = json.Unmarshal(r.Params, &p)
		a, _ := oc.bank.LookupAccount(ctx, p.BranchCode, banking.AccountType(p.AccountType), p.AccountNumber)
		fmt.Fprintf(&b, "Deposited %s to account %d (%s %s-%s) (%s, request %s); the balance is now %s.\n",
			yen(p.Amount), a.ID, a.Type.Label(), p.BranchCode, p.AccountNumber, p.Description, r.Ref, yen(a.Balance))
		return map[string]any{"account_id": a.ID, "branch": p.BranchCode, "type": p.AccountType, "number": p.AccountNumber,
			"amount": p.Amount, "balance": a.Balance, "description": p.Description, "request_ref": r.Ref}, b.String()
	case operators.KindLimitSet:
		var p operators.LimitSet
		_ = json.Unmarshal(r.Params, &p)
		fmt.Fprintf(&b, "Daily limit of organization %s set to %s (request %s).\n", p.OrganizationCode, yen(p.Daily), r.Ref)
		return map[string]any{"organization": p.OrganizationCode, "daily_limit": p.Daily, "request_ref": r.Ref}, b.String()
	}
	return r.Result, string(r.Result) + "\n"
}

func opStaffList(ctx context.Context, env Env, of operatorFlags, args []string) error {
	oc, err := of.parse(ctx, env, newFlags("operator staff list", env), args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	list, err := oc.ops.ListStaff(ctx)
	if err != nil {
		return err
	}
	type row struct {
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
		Role        string `json:"role"`
		CreatedAt   string `json:"created_at"`
		DisabledAt  string `json:"disabled_at,omitempty"`
	}
	rows := make([]row, 0, len(list))
	for _, s := range list {
		r := row{Name: s.Name, DisplayName: s.DisplayName, Role: string(s.Role), CreatedAt: s.CreatedAt.UTC().Format(time.RFC3339)}
		if !s.Active() {
			r.DisabledAt = s.DisabledAt.UTC().Format(time.RFC3339)
		}
		rows = append(rows, r)
	}
	if oc.json {
		return oc.printJSON(rows)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDISPLAY NAME\tROLE\tSTATUS")
	for i, s := range list {
		status := "active"
		if !s.Active() {
			status = "disabled " + rows[i].DisabledAt
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.DisplayName, operators.RoleLabel(s.Role), status)
	}
	return tw.Flush()
}

// opStaffAdd adds an operator from the server's command line (the first
// operators; later ones are added in the console by an approver).
func opStaffAdd(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator staff add", env)
	name := fs.String("name", "", "the operator's login name: ASCII letters, digits, '.', '_' or '-'")
	display := fs.String("display-name", "", "the operator's full name, such as 佐藤 花子")
	role := fs.String("role", "", "clerk (担当者), approver (承認者) or auditor (監査)")
	out := fs.String("out", "", "write the operator's certificate, made by the operator CA of --data, to this PKCS#12 file (its password is shown once)")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *name == "" || *display == "" || *role == "" {
		return usageErr("--name, --display-name and --role are required")
	}
	if !operators.ValidRole(operators.Role(*role)) {
		return usageErr("--role %q: want clerk, approver or auditor", *role)
	}
	var ca *pki.OperatorCA
	if *out != "" {
		if oc.dataDir == "" {
			return usageErr("--out needs --data DIR, whose authority holds the operator CA")
		}
		if ca, err = pki.LoadOperatorCA(pkiDir(oc.dataDir)); err != nil {
			return fmt.Errorf("%w (an authority made before the console has none: kinko ca operator --data DIR --root-dir DIR makes it)", err)
		}
		if _, err := os.Lstat(*out); err == nil {
			return usageErr("--out %s exists: choose a new file", *out)
		}
	}
	st, err := oc.ops.AddStaff(ctx, operators.NewStaff{Name: *name, DisplayName: *display, Role: operators.Role(*role)}, "")
	if err != nil {
		return explain(err)
	}
	res := map[string]any{"name": st.Name, "display_name": st.DisplayName, "role": st.Role}
	if ca != nil {
		p12, password, err := server.IssueOperatorCertificate(ctx, ca, oc.ops, st, server.Parts{Now: time.Now, Rand: rand.Reader})
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, p12, 0o600); err != nil {
			return fmt.Errorf("operator %s added, but the certificate file could not be written (add another certificate in the console): %w", st.Name, err)
		}
		res["pkcs12_file"], res["pkcs12_password"] = *out, password
	}
	if oc.json {
		return oc.printJSON(res)
	}
	fmt.Fprintf(env.Stdout, "Operator %s (%s) added as %s.\n", st.Name, st.DisplayName, operators.RoleLabel(st.Role))
	if ca != nil {
		fmt.Fprintf(env.Stdout, "Certificate for the console: %s, file password %s (shown only now).\n", *out, res["pkcs12_password"])
		fmt.Fprintln(env.Stdout, "Import it into the operator's browser (Windows: open the file; Firefox/NSS: pk12util -i FILE -d sql:DIR), then delete the file.")
	}
	return nil
}

// errorCode is the stable code of an error in --json output.
func errorCode(err error) string {
	switch {
	case errors.Is(err, errUsage), isFlagError(err):
		return "usage"
	case errors.Is(err, errNotStaff):
		return "not_staff"
	case errors.Is(err, operators.ErrActionFailed):
		return "action_failed"
	case errors.Is(err, operators.ErrOwnRequest):
		return "own_request"
	case errors.Is(err, operators.ErrDecided):
		return "already_decided"
	case errors.Is(err, operators.ErrRefUsed), errors.Is(err, banking.ErrDepositRefUsed):
		return "request_ref_used"
	case errors.Is(err, operators.ErrForbidden):
		return "forbidden"
	case errors.Is(err, operators.ErrNameTaken):
		return "name_taken"
	case errors.Is(err, operators.ErrNotFound), errors.Is(err, identity.ErrNotFound), errors.Is(err, certs.ErrNotFound), errors.Is(err, banking.ErrNotFound):
		return "not_found"
	case errors.Is(err, operators.ErrInvalid):
		return "invalid"
	}
	return "error"
}

// wantsJSON reports whether a command line asks for --json.
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		switch a {
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}
