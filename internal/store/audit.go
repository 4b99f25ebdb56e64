package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kinko/internal/audit"
)

type auditEvent = audit.Event

// The audit log is a hash chain (see package audit). An append locks the
// head of the chain (the one row of audit_head) by updating it, which on
// PostgreSQL makes concurrent appends wait for each other's commit, and on
// SQLite costs nothing more than the write lock that the IMMEDIATE
// transaction already holds; the head is read, the row inserted with its
// prev_hash, its hash computed from its id and stored, and the head moved to
// it, all in the transaction of the change the event records. Nothing is
// kept in memory, so a savepoint rolled back (certs.go) takes its appends
// back with it, head included.

// appendAudit appends ev to the chain in tx and returns its id.
func appendAudit(ctx context.Context, tx execer, ev audit.Event) (int64, error) {
	var headID int64
	var prev string
	err := tx.QueryRowContext(ctx, `UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, hash`).Scan(&headID, &prev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errors.New("audit head missing")
	}
	if err != nil {
		return 0, fmt.Errorf("lock audit head: %w", err)
	}
	r := audit.Row{At: micros(ev.At), Type: ev.Type, Actor: ev.Actor,
		OrganizationID: audit.NullInt{V: ev.OrganizationID, Valid: ev.OrganizationID != 0},
		UserID:         audit.NullInt{V: ev.UserID, Valid: ev.UserID != 0},
		Serial:         audit.NullText{V: ev.Serial, Valid: ev.Serial != ""},
		RequestRef:     audit.NullText{V: ev.RequestRef, Valid: ev.RequestRef != ""},
		Reason:         audit.NullText{V: ev.Reason, Valid: ev.Reason != ""},
		Cause:          audit.NullText{V: string(ev.Cause), Valid: ev.Cause != ""},
		Password:       audit.NullText{V: string(ev.Password), Valid: ev.Password != ""},
		Detail:         ev.Detail, PrevHash: prev}
	err = tx.QueryRowContext(ctx, `INSERT INTO audit_events (at, type, actor, organization_id, user_id, serial, request_ref, reason, cause, password, detail, prev_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		r.At, r.Type, r.Actor, nullInt(ev.OrganizationID), nullInt(ev.UserID), nullString(ev.Serial), nullString(ev.RequestRef),
		nullString(ev.Reason), nullString(string(ev.Cause)), nullString(string(ev.Password)), r.Detail, r.PrevHash).Scan(&r.ID)
	if err != nil {
		return 0, err
	}
	if r.ID <= headID {
		return 0, fmt.Errorf("audit row id %d not after the head %d", r.ID, headID)
	}
	r.Hash = audit.ComputeHash(r)
	if _, err := tx.ExecContext(ctx, `UPDATE audit_events SET hash = $1 WHERE id = $2`, r.Hash, r.ID); err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE audit_head SET last_id = $1, hash = $2 WHERE id = 1`, r.ID, r.Hash)
	return r.ID, err
}

// migrationSteps are run in the transaction of a migration, after its
// statements, by version.
var migrationSteps = map[int]func(ctx context.Context, tx *sql.Tx) error{
	2: chainExisting,
}

// chainExisting chains, in order of id, the audit rows written before the
// log became a chain, and moves the head to the last of them.
func chainExisting(ctx context.Context, tx *sql.Tx) error {
	prev, after := audit.GenesisHash, int64(0)
	for {
		// The columns of the time of migration 2: the typed fields came
		// later (migration 6), and these rows have none.
		rows, err := tx.QueryContext(ctx, `SELECT `+auditRowColumnsV1+` FROM audit_events WHERE id > $1 ORDER BY id LIMIT 1000`, after)
		if err != nil {
			return fmt.Errorf("chain audit rows: %w", err)
		}
		var batch []audit.Row
		for rows.Next() {
			r, err := scanAuditRowV1(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("chain audit rows: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("chain audit rows: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		for _, r := range batch {
			r.PrevHash = prev
			r.Hash = audit.ComputeHash(r)
			if _, err := tx.ExecContext(ctx, `UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE id = $3`, r.PrevHash, r.Hash, r.ID); err != nil {
				return fmt.Errorf("chain audit row %d: %w", r.ID, err)
			}
			prev, after = r.Hash, r.ID
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET last_id = $1, hash = $2 WHERE id = 1`, after, prev); err != nil {
		return fmt.Errorf("chain audit rows: %w", err)
	}
	return nil
}

const auditRowColumnsV1 = `id, at, type, actor, organization_id, user_id, serial, request_ref, detail, prev_hash, hash`

// scanAuditRowV1 scans the columns of auditRowColumnsV1.
func scanAuditRowV1(s scanner) (audit.Row, error) {
	var r audit.Row
	var org, user sql.NullInt64
	var serial, ref, prev, hash sql.NullString
	if err := s.Scan(&r.ID, &r.At, &r.Type, &r.Actor, &org, &user, &serial, &ref, &r.Detail, &prev, &hash); err != nil {
		return audit.Row{}, err
	}
	r.OrganizationID = audit.NullInt{V: org.Int64, Valid: org.Valid}
	r.UserID = audit.NullInt{V: user.Int64, Valid: user.Valid}
	r.Serial = audit.NullText{V: serial.String, Valid: serial.Valid}
	r.RequestRef = audit.NullText{V: ref.String, Valid: ref.Valid}
	r.PrevHash, r.Hash = prev.String, hash.String
	return r, nil
}

const auditRowColumns = `id, at, type, actor, organization_id, user_id, serial, request_ref, reason, cause, password, detail, prev_hash, hash`

func scanAuditRow(s scanner) (audit.Row, error) {
	var r audit.Row
	var org, user sql.NullInt64
	var serial, ref, reason, cause, password, prev, hash sql.NullString
	if err := s.Scan(&r.ID, &r.At, &r.Type, &r.Actor, &org, &user, &serial, &ref, &reason, &cause, &password, &r.Detail, &prev, &hash); err != nil {
		return audit.Row{}, err
	}
	r.OrganizationID = audit.NullInt{V: org.Int64, Valid: org.Valid}
	r.UserID = audit.NullInt{V: user.Int64, Valid: user.Valid}
	r.Serial = audit.NullText{V: serial.String, Valid: serial.Valid}
	r.RequestRef = audit.NullText{V: ref.String, Valid: ref.Valid}
	r.Reason = audit.NullText{V: reason.String, Valid: reason.Valid}
	r.Cause = audit.NullText{V: cause.String, Valid: cause.Valid}
	r.Password = audit.NullText{V: password.String, Valid: password.Valid}
	r.PrevHash, r.Hash = prev.String, hash.String
	return r, nil
}

// AuditVerification is the result of checking the audit chain.
type AuditVerification struct {
	Count    int    // rows checked and found good
	LastID   int64  // id of the last good row, 0 for none
	LastHash string // hash of the last good row, audit.GenesisHash for none
	// Break names the first bad row; nil when the whole chain is good.
	Break *audit.Break
}

// VerifyAudit checks the whole audit chain, in one consistent snapshot of
// the database, against the head.
func (d *DB) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	opts := &sql.TxOptions{ReadOnly: true} // SQLite: a deferred transaction, writers go on
	if d.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := d.db.BeginTx(ctx, opts)
	if err != nil {
		return AuditVerification{}, fmt.Errorf("store: verify audit: %w", err)
	}
	defer tx.Rollback()
	var headID int64
	var headHash string
	if err := tx.QueryRowContext(ctx, `SELECT last_id, hash FROM audit_head WHERE id = 1`).Scan(&headID, &headHash); err != nil {
		return AuditVerification{}, fmt.Errorf("store: verify audit: head: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+auditRowColumns+` FROM audit_events ORDER BY id`)
	if err != nil {
		return AuditVerification{}, fmt.Errorf("store: verify audit: %w", err)
	}
	defer rows.Close()
	v := audit.NewVerifier()
	for rows.Next() {
		r, err := scanAuditRow(rows)
		if err != nil {
			return AuditVerification{}, fmt.Errorf("store: verify audit: %w", err)
		}
		if v.Add(r) != nil {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return AuditVerification{}, fmt.Errorf("store: verify audit: %w", err)
	}
	b := v.End(headID, headHash)
	return AuditVerification{Count: v.Count(), LastID: v.LastID(), LastHash: v.LastHash(), Break: b}, nil
}

// AppendAudit appends an event that goes with no other change (a failed
// login, a refusal).
func (d *DB) AppendAudit(ctx context.Context, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return d.insertAudit(ctx, tx, ev) })
}

// AuditFilter selects audit events; zero fields select all.
type AuditFilter struct {
	OrganizationID int64
	UserID         int64
	Type           audit.Type
	Since, Until   time.Time
	Limit          int
	NewestFirst    bool // newest first instead of in order of recording
}

// AuditRecord is an audit event with its place in the chain.
type AuditRecord struct {
	ID int64
	audit.Event
	Hash string
}

// ListAudit returns audit events in order of recording, or newest first
// when f.NewestFirst is set (with Limit: the newest Limit events).
func (d *DB) ListAudit(ctx context.Context, f AuditFilter) ([]audit.Event, error) {
	recs, err := d.ListAuditRecords(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []audit.Event
	for _, r := range recs {
		out = append(out, r.Event)
	}
	return out, nil
}

// ListAuditRecords is ListAudit with each event's id and hash.
func (d *DB) ListAuditRecords(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	q := `SELECT ` + auditEventColumns + ` FROM audit_events WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(" AND %s $%d", cond, len(args))
	}
	if f.OrganizationID != 0 {
		add("organization_id =", f.OrganizationID)
	}
	if f.UserID != 0 {
		add("user_id =", f.UserID)
	}
	if f.Type != "" {
		add("type =", f.Type)
	}
	if !f.Since.IsZero() {
		add("at >=", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at <", micros(f.Until))
	}
	q += " ORDER BY id"
	if f.NewestFirst {
		q += " DESC"
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditRecord
	for rows.Next() {
		r, err := scanAuditEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list audit: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const auditEventColumns = `id, at, type, actor, organization_id, user_id, serial, request_ref, reason, cause, password, detail, hash`

func scanAuditEvent(s scanner) (AuditRecord, error) {
	var r AuditRecord
	var at int64
	var org, user sql.NullInt64
	var serial, ref, reason, cause, password, hash sql.NullString
	if err := s.Scan(&r.ID, &at, &r.Type, &r.Actor, &org, &user, &serial, &ref, &reason, &cause, &password, &r.Detail, &hash); err != nil {
		return AuditRecord{}, err
	}
	r.At, r.OrganizationID, r.UserID, r.Serial, r.RequestRef, r.Hash = fromMicros(at), org.Int64, user.Int64, serial.String, ref.String, hash.String
	r.Reason, r.Cause, r.Password = reason.String, audit.Cause(cause.String), audit.Password(password.String)
	return r, nil
}
