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

// The audit log is a hash chain (see package audit), linked after commit.
// An event is inserted in the transaction of the change it records, with
// the mails it causes, without prev_hash and hash: writers take nothing but
// an id from the table's sequence, and no writer waits for another's
// commit. The linker (LinkAudit, a job of every server) then links, in one
// transaction at a time, every event committed and not yet linked, in
// order of id: it locks the head (FOR UPDATE SKIP LOCKED: a second linker
// finds it taken and leaves the work to the first), gives each event the
// next chain_seq, the head's hash as prev_hash, and its hash, and moves the
// head. An event whose transaction took its id early and committed late is
// linked by the first run that sees it committed; so the linker never waits
// for a gap in the ids (a transaction rolled back or still open), and never
// passes over a committed event. On SQLite, where writers take turns
// anyway, an event is linked in its own transaction right after its insert
// (and a savepoint rolled back, certs.go, takes the link back with it); the
// chain is the same, and verified alike.

// auditHead is the head of the chain: the last row linked.
type auditHead struct {
	id, seq int64
	hash    string
}

// auditRowOf returns the row of ev as inserted, not linked.
func auditRowOf(ev audit.Event) audit.Row {
	return audit.Row{At: micros(ev.At), Type: ev.Type, Actor: ev.Actor,
		OrganizationID: audit.NullInt{V: ev.OrganizationID, Valid: ev.OrganizationID != 0},
		UserID:         audit.NullInt{V: ev.UserID, Valid: ev.UserID != 0},
		Serial:         audit.NullText{V: ev.Serial, Valid: ev.Serial != ""},
		RequestRef:     audit.NullText{V: ev.RequestRef, Valid: ev.RequestRef != ""},
		RequestID:      audit.NullText{V: ev.RequestID, Valid: ev.RequestID != ""},
		TransferID:     audit.NullInt{V: ev.TransferID, Valid: ev.TransferID != 0},
		BatchID:        audit.NullInt{V: ev.BatchID, Valid: ev.BatchID != 0},
		Reason:         audit.NullText{V: ev.Reason, Valid: ev.Reason != ""},
		Cause:          audit.NullText{V: string(ev.Cause), Valid: ev.Cause != ""},
		Password:       audit.NullText{V: string(ev.Password), Valid: ev.Password != ""},
		Detail:         ev.Detail}
}

// appendAudit inserts ev in tx and returns its id; on SQLite it also links
// it. An event without a request ID takes the one ctx carries.
func (d *DB) appendAudit(ctx context.Context, tx execer, ev audit.Event) (int64, error) {
	if ev.RequestID == "" {
		ev.RequestID = audit.RequestIDFrom(ctx)
	}
	r := auditRowOf(ev)
	// recorded_at is the wall clock's, not the injected clock's: it says
	// how long an event has waited to be linked, whatever time the bank's
	// rules stand at.
	err := tx.QueryRowContext(ctx, `INSERT INTO audit_events (at, type, actor, organization_id, user_id, serial, request_ref, request_id, transfer_id, batch_id, reason, cause, password, detail, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		r.At, r.Type, r.Actor, nullInt(ev.OrganizationID), nullInt(ev.UserID), nullString(ev.Serial), nullString(ev.RequestRef),
		nullString(ev.RequestID), nullInt(ev.TransferID), nullInt(ev.BatchID), nullString(ev.Reason), nullString(string(ev.Cause)), nullString(string(ev.Password)), r.Detail,
		time.Now().UnixMicro()).Scan(&r.ID)
	if err != nil {
		return 0, err
	}
	if d.dialect == Postgres {
		return r.ID, nil
	}
	var h auditHead
	err = tx.QueryRowContext(ctx, `UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, last_seq, hash`).Scan(&h.id, &h.seq, &h.hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errors.New("audit head missing")
	}
	if err != nil {
		return 0, fmt.Errorf("lock audit head: %w", err)
	}
	if err := linkAuditRow(ctx, tx, &h, r); err != nil {
		return 0, err
	}
	return r.ID, moveAuditHead(ctx, tx, h)
}

// linkAuditRow links r after h in tx, and moves h to it.
func linkAuditRow(ctx context.Context, tx execer, h *auditHead, r audit.Row) error {
	r.ChainSeq = audit.NullInt{V: h.seq + 1, Valid: true}
	r.PrevHash = h.hash
	r.Hash = audit.ComputeHash(r)
	res, err := tx.ExecContext(ctx, `UPDATE audit_events SET chain_seq = $1, prev_hash = $2, hash = $3 WHERE id = $4 AND chain_seq IS NULL AND hash IS NULL`,
		r.ChainSeq.V, r.PrevHash, r.Hash, r.ID)
	if err != nil {
		return fmt.Errorf("link audit row %d: %w", r.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("link audit row %d: not an unlinked row (%d rows, %v)", r.ID, n, err)
	}
	*h = auditHead{id: r.ID, seq: r.ChainSeq.V, hash: r.Hash}
	return nil
}

func moveAuditHead(ctx context.Context, tx execer, h auditHead) error {
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET last_id = $1, last_seq = $2, hash = $3 WHERE id = 1`, h.id, h.seq, h.hash); err != nil {
		return fmt.Errorf("move audit head: %w", err)
	}
	return nil
}

// linkBatch is how many events the linker links in one transaction.
const linkBatch = 1000

// LinkAudit links every committed event not linked yet, in batches of one
// transaction each, and returns how many it linked. It does nothing when
// another linker holds the head (that one links them). It is a job of
// every server (see package server).
func (d *DB) LinkAudit(ctx context.Context) (int, error) {
	total := 0
	for {
		var waiting bool
		err := d.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM audit_events WHERE chain_seq IS NULL AND hash IS NULL)`).Scan(&waiting)
		if err != nil {
			return total, fmt.Errorf("store: link audit: %w", err)
		}
		if !waiting {
			return total, nil
		}
		var n int
		var more bool
		err = d.tx(ctx, func(tx *sql.Tx) error {
			n, more, err = d.linkAuditBatch(ctx, tx)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: link audit: %w", err)
		}
		total += n
		if !more {
			return total, nil
		}
	}
}

// linkAuditBatch links up to linkBatch events in tx, in order of id, and
// reports whether more may be waiting.
func (d *DB) linkAuditBatch(ctx context.Context, tx *sql.Tx) (int, bool, error) {
	var h auditHead
	q := `UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, last_seq, hash`
	if d.dialect == Postgres {
		q = `SELECT last_id, last_seq, hash FROM audit_head WHERE id = 1 FOR UPDATE SKIP LOCKED`
	}
	err := tx.QueryRowContext(ctx, q).Scan(&h.id, &h.seq, &h.hash)
	if errors.Is(err, sql.ErrNoRows) && d.dialect == Postgres {
		return 0, false, nil // another linker is at work
	}
	if err != nil {
		return 0, false, fmt.Errorf("lock audit head: %w", err)
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT `+auditRowColumns+` FROM audit_events WHERE chain_seq IS NULL AND hash IS NULL ORDER BY id LIMIT %d`, linkBatch))
	if err != nil {
		return 0, false, err
	}
	var batch []audit.Row
	for rows.Next() {
		r, err := scanAuditRow(rows)
		if err != nil {
			rows.Close()
			return 0, false, err
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	if d.dialect == Postgres && len(batch) > 0 {
		// One statement for the batch: the linker is the one writer of
		// the chain, and a round trip per row would bound its pace.
		ids, seqs := make([]int64, len(batch)), make([]int64, len(batch))
		prevs, hashes := make([]string, len(batch)), make([]string, len(batch))
		for i, r := range batch {
			r.ChainSeq = audit.NullInt{V: h.seq + 1, Valid: true}
			r.PrevHash = h.hash
			r.Hash = audit.ComputeHash(r)
			ids[i], seqs[i], prevs[i], hashes[i] = r.ID, r.ChainSeq.V, r.PrevHash, r.Hash
			h = auditHead{id: r.ID, seq: r.ChainSeq.V, hash: r.Hash}
		}
		res, err := tx.ExecContext(ctx, `UPDATE audit_events AS a SET chain_seq = v.seq, prev_hash = v.prev, hash = v.hash
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS v(id, seq, prev, hash)
			WHERE a.id = v.id AND a.chain_seq IS NULL AND a.hash IS NULL`, ids, seqs, prevs, hashes)
		if err != nil {
			return 0, false, fmt.Errorf("link audit rows: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(batch)) {
			return 0, false, fmt.Errorf("link audit rows: %d of %d linked (%v)", n, len(batch), err)
		}
	} else {
		for _, r := range batch {
			if err := linkAuditRow(ctx, tx, &h, r); err != nil {
				return 0, false, err
			}
		}
	}
	if len(batch) > 0 {
		if err := moveAuditHead(ctx, tx, h); err != nil {
			return 0, false, err
		}
	}
	return len(batch), len(batch) == linkBatch, nil
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

const auditRowColumns = `id, chain_seq, at, type, actor, organization_id, user_id, serial, request_ref, request_id, transfer_id, batch_id, reason, cause, password, detail, prev_hash, hash`

func scanAuditRow(s scanner) (audit.Row, error) {
	var r audit.Row
	var seq, org, user, transfer, batch sql.NullInt64
	var serial, ref, reqID, reason, cause, password, prev, hash sql.NullString
	if err := s.Scan(&r.ID, &seq, &r.At, &r.Type, &r.Actor, &org, &user, &serial, &ref, &reqID, &transfer, &batch, &reason, &cause, &password, &r.Detail, &prev, &hash); err != nil {
		return audit.Row{}, err
	}
	r.TransferID = audit.NullInt{V: transfer.Int64, Valid: transfer.Valid}
	r.BatchID = audit.NullInt{V: batch.Int64, Valid: batch.Valid}
	r.ChainSeq = audit.NullInt{V: seq.Int64, Valid: seq.Valid}
	r.RequestID = audit.NullText{V: reqID.String, Valid: reqID.Valid}
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
	Count    int    // linked rows checked and found good
	LastID   int64  // id of the last good row, 0 for none
	LastHash string // hash of the last good row, audit.GenesisHash for none
	// Break names the first bad row; nil when the whole chain is good.
	Break *audit.Break
	// Unlinked is the number of events committed and not linked yet (the
	// linker links them within seconds), the lowest and highest of their
	// ids, and when the oldest of them was written (by the writing
	// server's wall clock; the zero time for a row without that record).
	Unlinked                        int
	UnlinkedFirstID, UnlinkedLastID int64
	UnlinkedSince                   time.Time
}

// VerifyAudit checks the whole audit chain, in one consistent snapshot of
// the database: the rows linked at insert (in order of id), then the rows
// linked after commit (in order of chain_seq), against the head; then the
// events not linked yet, which must carry nothing of the chain.
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
	var h auditHead
	if err := tx.QueryRowContext(ctx, `SELECT last_id, last_seq, hash FROM audit_head WHERE id = 1`).Scan(&h.id, &h.seq, &h.hash); err != nil {
		return AuditVerification{}, fmt.Errorf("store: verify audit: head: %w", err)
	}
	v := audit.NewVerifier()
	var out AuditVerification
	each := func(where string, f func(r audit.Row)) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+auditRowColumns+` FROM audit_events WHERE `+where)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanAuditRow(rows)
			if err != nil {
				return err
			}
			f(r)
		}
		return rows.Err()
	}
	add := func(r audit.Row) { v.Add(r) }
	if err := each(`chain_seq IS NULL AND hash IS NOT NULL ORDER BY id`, add); err != nil {
		return AuditVerification{}, fmt.Errorf("store: verify audit: %w", err)
	}
	if err := each(`chain_seq IS NOT NULL ORDER BY chain_seq`, add); err != nil {
		return AuditVerification{}, fmt.Errorf("store: verify audit: %w", err)
	}
	out.Count, out.LastID, out.LastHash = v.Count(), v.LastID(), v.LastHash()
	v.End(h.id, h.seq, h.hash)
	err = each(`chain_seq IS NULL AND hash IS NULL ORDER BY id`, func(r audit.Row) {
		v.Unlinked(r)
		if out.Unlinked == 0 {
			out.UnlinkedFirstID = r.ID
		}
		out.Unlinked++
		out.UnlinkedLastID = r.ID
	})
	if err != nil {
		return AuditVerification{}, fmt.Errorf("store: verify audit: %w", err)
	}
	if out.Unlinked > 0 {
		var since sql.NullInt64
		var missing bool
		err := tx.QueryRowContext(ctx, `SELECT MIN(recorded_at), COUNT(*) > COUNT(recorded_at) FROM audit_events WHERE chain_seq IS NULL AND hash IS NULL`).Scan(&since, &missing)
		if err != nil {
			return AuditVerification{}, fmt.Errorf("store: verify audit: %w", err)
		}
		if since.Valid && !missing {
			out.UnlinkedSince = fromMicros(since.Int64)
		}
	}
	out.Break = v.End(h.id, h.seq, h.hash)
	return out, nil
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
	Hash string // "" while the event is not linked yet
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

const auditEventColumns = `id, at, type, actor, organization_id, user_id, serial, request_ref, request_id, transfer_id, batch_id, reason, cause, password, detail, hash`

func scanAuditEvent(s scanner) (AuditRecord, error) {
	var r AuditRecord
	var at int64
	var org, user, transfer, batch sql.NullInt64
	var serial, ref, reqID, reason, cause, password, hash sql.NullString
	if err := s.Scan(&r.ID, &at, &r.Type, &r.Actor, &org, &user, &serial, &ref, &reqID, &transfer, &batch, &reason, &cause, &password, &r.Detail, &hash); err != nil {
		return AuditRecord{}, err
	}
	r.TransferID, r.BatchID = transfer.Int64, batch.Int64
	r.RequestID = reqID.String
	r.At, r.OrganizationID, r.UserID, r.Serial, r.RequestRef, r.Hash = fromMicros(at), org.Int64, user.Int64, serial.String, ref.String, hash.String
	r.Reason, r.Cause, r.Password = reason.String, audit.Cause(cause.String), audit.Password(password.String)
	return r, nil
}
