package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"kinko/internal/audit"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/store"
)

// errAuditBroken is the error of a verify that found the chain broken; the
// report is already printed.
var errAuditBroken = errors.New("the audit chain is broken")

// errAuditUnlinked is the error of a verify that found events waiting too
// long to be linked; the report is already printed.
var errAuditUnlinked = errors.New("audit events wait to be linked")

// runAudit is "kinko audit": verify the audit chain, list its events.
func runAudit(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "list" && args[0] != "link") {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			fmt.Fprint(env.Stdout, auditUsage)
			return nil
		}
		fmt.Fprint(env.Stderr, auditUsage)
		return usageErr("verify, list or link is required")
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, args[1:], env)
	case "link":
		return auditLink(ctx, args[1:], env)
	}
	return auditList(ctx, args[1:], env)
}

const auditUsage = `Usage:
  kinko audit verify --data DIR|--db DSN [--max-unlinked-age DURATION]
        check the whole audit chain and report the events not linked yet; exit 1 and
        name the first bad row if it is broken, or if an event has waited longer than
        DURATION (default 5m) to be linked
  kinko audit link --data DIR|--db DSN
        link the events committed and not linked yet into the chain, as the audit chain
        job of kinko serve does (for a database that no server runs on, such as a restored
        backup)
  kinko audit list --data DIR|--db DSN [--org CODE] [--login-id ID] [--event TYPE]
                   [--since TIME] [--until TIME] [--json]
        the audit events, oldest first; TIME is RFC 3339 or YYYY-MM-DD (UTC);
        --since is inclusive, --until exclusive
`

func openAuditDB(ctx context.Context, data, db string) (*store.DB, error) {
	if data == "" && db == "" {
		return nil, usageErr("--data or --db is required")
	}
	return store.Open(ctx, dsnFor(data, db))
}

func auditVerify(ctx context.Context, args []string, env Env) error {
	fs := newFlags("audit verify", env)
	data := fs.String("data", "", "data directory (SQLite database)")
	dsn := fs.String("db", "", "PostgreSQL DSN")
	maxUnlinked := fs.Duration("max-unlinked-age", 5*time.Minute, "longest time an event may wait to be linked")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	if *maxUnlinked <= 0 {
		return usageErr("--max-unlinked-age must be positive")
	}
	db, err := openAuditDB(ctx, *data, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if v.Break != nil {
		if v.Break.ID == 0 {
			fmt.Fprintf(env.Stdout, "BROKEN at the end of the chain: %s\n", v.Break.Reason)
		} else {
			fmt.Fprintf(env.Stdout, "BROKEN at row %d: %s\n", v.Break.ID, v.Break.Reason)
		}
		fmt.Fprintf(env.Stdout, "%d rows good before it; last good row %d, hash %s\n", v.Count, v.LastID, v.LastHash)
		return errAuditBroken
	}
	fmt.Fprintf(env.Stdout, "OK: %d rows, last row %d, last hash %s\n", v.Count, v.LastID, v.LastHash)
	if v.Unlinked == 0 {
		return nil
	}
	ids := fmt.Sprintf("id %d", v.UnlinkedFirstID)
	if v.Unlinked > 1 {
		ids = fmt.Sprintf("ids %d to %d", v.UnlinkedFirstID, v.UnlinkedLastID)
	}
	if v.UnlinkedSince.IsZero() {
		fmt.Fprintf(env.Stdout, "UNLINKED: %d events not linked yet (%s), some without the time they were written\n", v.Unlinked, ids)
		return errAuditUnlinked
	}
	age := time.Since(v.UnlinkedSince).Truncate(time.Second)
	if age > *maxUnlinked {
		fmt.Fprintf(env.Stdout, "UNLINKED: %d events not linked yet (%s), the oldest written %s ago: is the audit chain job of kinko serve running?\n", v.Unlinked, ids, age)
		return errAuditUnlinked
	}
	fmt.Fprintf(env.Stdout, "and %d events not linked yet (%s), the oldest written %s ago\n", v.Unlinked, ids, age)
	return nil
}

func auditLink(ctx context.Context, args []string, env Env) error {
	fs := newFlags("audit link", env)
	data := fs.String("data", "", "data directory (SQLite database)")
	dsn := fs.String("db", "", "PostgreSQL DSN")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	db, err := openAuditDB(ctx, *data, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.LinkAudit(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "linked %d events\n", n)
	return nil
}

// parseAuditTime parses a time of the audit log's flags in Japan time:
// YYYY-MM-DD (midnight in Japan), YYYY-MM-DDTHH:MM or YYYY-MM-DD HH:MM
// (Japan time), or RFC 3339 with its own offset.
func parseAuditTime(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, calendar.JST); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErr("--%s %q: want a day or a time in Japan time (2026-04-01, 2026-04-01T09:00) or RFC 3339 (2026-04-01T09:00:00+09:00)", flagName, s)
}

// auditJSON is one event of "kinko audit list --json".
type auditJSON struct {
	ID    int64  `json:"id"`
	At    string `json:"at"`
	Type  string `json:"type"`
	Actor string `json:"actor"`
	// The organization by its code and the user by the login ID, never
	// by an internal ID.
	OrganizationCode string `json:"organization_code,omitempty"`
	LoginID          string `json:"login_id,omitempty"`
	Serial           string `json:"serial,omitempty"`
	RequestRef       string `json:"request_ref,omitempty"`
	RequestID        string `json:"request_id,omitempty"`
	TransferID       int64  `json:"transfer_id,omitempty"`
	BatchID          int64  `json:"batch_id,omitempty"`
	Reason           string `json:"reason,omitempty"`
	Cause            string `json:"cause,omitempty"`
	Password         string `json:"password,omitempty"`
	Detail           string `json:"detail"`
	Hash             string `json:"hash"`
}

func auditList(ctx context.Context, args []string, env Env) error {
	fs := newFlags("audit list", env)
	data := fs.String("data", "", "data directory (SQLite database)")
	dsn := fs.String("db", "", "PostgreSQL DSN")
	org := fs.String("org", "", "organization code")
	loginID := fs.String("login-id", "", "a user's login ID")
	event := fs.String("event", "", "event type, such as login.failed")
	since := fs.String("since", "", "from this time (inclusive)")
	until := fs.String("until", "", "before this time (exclusive)")
	asJSON := fs.Bool("json", false, "machine-readable output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	var f store.AuditFilter
	var err error
	if f.Since, err = parseAuditTime("since", *since); err != nil {
		return err
	}
	if f.Until, err = parseAuditTime("until", *until); err != nil {
		return err
	}
	f.Type = audit.Type(*event)
	db, err := openAuditDB(ctx, *data, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if *org != "" {
		o, err := db.OrganizationByCode(ctx, *org)
		if errors.Is(err, identity.ErrNotFound) {
			return fmt.Errorf("no organization with code %s", *org)
		}
		if err != nil {
			return err
		}
		f.OrganizationID = o.ID
	}
	if *loginID != "" {
		u, _, err := db.UserByLoginID(ctx, *loginID)
		if errors.Is(err, identity.ErrNotFound) {
			return fmt.Errorf("no user with login ID %s", *loginID)
		}
		if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	recs, err := db.ListAuditRecords(ctx, f)
	if err != nil {
		return err
	}
	// Organizations by their codes and users by their login IDs, each
	// read once.
	codes, logins := map[int64]string{}, map[int64]string{}
	name := func(r store.AuditRecord) (code, login string, err error) {
		if r.UserID != 0 {
			if _, ok := logins[r.UserID]; !ok {
				u, o, err := db.UserByID(ctx, r.UserID)
				if err != nil && !errors.Is(err, identity.ErrNotFound) {
					return "", "", err
				}
				logins[r.UserID], codes[o.ID] = u.LoginID, o.Code
			}
		}
		if r.OrganizationID != 0 {
			if _, ok := codes[r.OrganizationID]; !ok {
				o, err := db.OrganizationByID(ctx, r.OrganizationID)
				if err != nil && !errors.Is(err, identity.ErrNotFound) {
					return "", "", err
				}
				codes[r.OrganizationID] = o.Code
			}
		}
		return codes[r.OrganizationID], logins[r.UserID], nil
	}
	if *asJSON {
		out := make([]auditJSON, 0, len(recs))
		for _, r := range recs {
			code, login, err := name(r)
			if err != nil {
				return err
			}
			out = append(out, auditJSON{ID: r.ID, At: r.At.In(calendar.JST).Format(time.RFC3339Nano), Type: string(r.Type), Actor: r.Actor,
				OrganizationCode: code, LoginID: login, Serial: r.Serial, RequestRef: r.RequestRef, RequestID: r.RequestID,
				TransferID: r.TransferID, BatchID: r.BatchID, Reason: r.Reason, Cause: string(r.Cause), Password: string(r.Password), Detail: r.Detail, Hash: r.Hash})
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAT (JST)\tEVENT\tACTOR\tORG\tUSER\tSERIAL\tREQUEST\tREQUEST ID\tDETAIL")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range recs {
		code, login, err := name(r)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.At.In(calendar.JST).Format("2006-01-02 15:04:05"), r.Type, r.Actor,
			dash(code), dash(login), dash(r.Serial), dash(r.RequestRef), dash(r.RequestID), r.Summary())
	}
	return tw.Flush()
}
