package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"kinko/internal/certs"
)

const certColumns = `c.id, c.serial, c.user_id, c.organization_id, c.status, c.tbs, c.der, c.fingerprint, c.not_before, c.not_after,
	c.created_at, c.issued_at, c.revoked_at, c.revocation_reason, c.revoked_by, c.request_ref, c.renews,
	c.first_used_at, c.last_used_at`

func scanCertificate(s scanner) (certs.Certificate, error) {
	var cs certScan
	if err := s.Scan(cs.dest()...); err != nil {
		return certs.Certificate{}, err
	}
	return cs.cert(), nil
}

// certHeadColumns are certColumns without the certificate's bytes (TBS and
// DER, NULL here): what a request's checks read, hundreds of bytes less.
const certHeadColumns = `c.id, c.serial, c.user_id, c.organization_id, c.status, NULL, NULL, c.fingerprint, c.not_before, c.not_after,
	c.created_at, c.issued_at, c.revoked_at, c.revocation_reason, c.revoked_by, c.request_ref, c.renews,
	c.first_used_at, c.last_used_at`

// certScan receives certColumns (or certHeadColumns), also from the NULLs
// of an outer join.
type certScan struct {
	id, userID, orgID                   sql.NullInt64
	serial, status, fp, reason, by, ref sql.NullString
	tbs, der                            []byte
	nb, na, created                     sql.NullInt64
	issued, revoked, renews             sql.NullInt64
	firstUsed, lastUsed                 sql.NullInt64
}

func (s *certScan) dest() []any {
	return []any{&s.id, &s.serial, &s.userID, &s.orgID, &s.status, &s.tbs, &s.der, &s.fp, &s.nb, &s.na,
		&s.created, &s.issued, &s.revoked, &s.reason, &s.by, &s.ref, &s.renews, &s.firstUsed, &s.lastUsed}
}

// valid reports whether a certificate was found (not the NULLs of an
// outer join).
func (s *certScan) valid() bool { return s.id.Valid }

func (s *certScan) cert() certs.Certificate {
	return certs.Certificate{
		ID: s.id.Int64, Serial: s.serial.String, UserID: s.userID.Int64, OrganizationID: s.orgID.Int64,
		Status: certs.Status(s.status.String), TBS: s.tbs, DER: s.der, Fingerprint: s.fp.String,
		NotBefore: fromMicros(s.nb.Int64), NotAfter: fromMicros(s.na.Int64), CreatedAt: fromMicros(s.created.Int64),
		IssuedAt: fromNullMicros(s.issued), RevokedAt: fromNullMicros(s.revoked),
		RevocationReason: s.reason.String, RevokedBy: s.by.String, RequestRef: s.ref.String, Renews: s.renews.Int64,
		FirstUsedAt: fromNullMicros(s.firstUsed), LastUsedAt: fromNullMicros(s.lastUsed),
	}
}

// groupCommit batches the certificate writes (Certs.InTx: recording a
// certificate, storing its signature, revoking) on SQLite, where every
// commit waits for the disk and writers take turns on one lock: the writes queued while a commit is under way go
// into the next transaction together, each inside its own savepoint, so
// that each is still all or nothing and sees the ones before it. A caller
// returns only after the commit that holds its write, so a certificate is
// durably recorded before it is signed, as without batching. The zero value
// is ready to use; a goroutine runs while writes are queued and ends when
// the queue is empty. That goroutine also keeps the writes' statements
// prepared, so that SQLite parses them once per connection, not once per
// write.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*queuedWrite
	running bool
	// stmts holds the prepared statements by query, and nil for a query
	// to prepare after the current transaction (preparing needs a
	// connection of its own, which must never be waited for while the
	// write lock is held). Used by the running goroutine only.
	stmts map[string]*sql.Stmt
}

type queuedWrite struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx certWriteTx) error
	done chan error
}

// certWriteTx is the transaction a certificate write runs in. With stmts,
// it runs the statements prepared in stmts and notes the others there.
type certWriteTx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// stmt returns the prepared statement for query, bound to the transaction,
// or nil.
func (t certWriteTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	s, ok := t.stmts[query]
	if !ok {
		t.stmts[query] = nil
	}
	if s == nil {
		return nil
	}
	return t.tx.StmtContext(ctx, s)
}

// ExecContext runs a statement in the transaction.
func (t certWriteTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns one row in the transaction.
func (t certWriteTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// certTx runs fn in a transaction: on SQLite one shared with the other
// certificate writes queued at the same time, on PostgreSQL its own (its
// writers do not wait for each other's commits).
func (d *DB) certTx(ctx context.Context, fn func(ctx context.Context, tx certWriteTx) error) error {
	if d.dialect != SQLite {
		return d.tx(ctx, func(tx *sql.Tx) error { return fn(ctx, certWriteTx{tx: tx}) })
	}
	w := &queuedWrite{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g := &d.certWrites
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if !g.running {
		g.running = true
		go d.writeQueued()
	}
	g.mu.Unlock()
	return <-w.done
}

// writeQueued commits the queued writes, batch after batch, until the queue
// is empty.
func (d *DB) writeQueued() {
	g := &d.certWrites
	if g.stmts == nil {
		g.stmts = map[string]*sql.Stmt{}
	}
	for {
		g.mu.Lock()
		batch := g.queue
		g.queue = nil
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		d.writeBatch(batch, g.stmts)
		for q, s := range g.stmts {
			if s == nil {
				if s, err := d.db.PrepareContext(context.Background(), q); err == nil {
					g.stmts[q] = s
				}
			}
		}
	}
}

// writeBatch runs a batch of writes in one transaction, each in a
// savepoint: a write that fails is rolled back alone and gets its error;
// when the transaction itself fails, every write gets that error. A write
// whose context is done before its turn is not run; once started it runs to
// the end, so that a caller going away cannot interrupt the others.
func (d *DB) writeBatch(batch []*queuedWrite, stmts map[string]*sql.Stmt) {
	errs := make([]error, len(batch))
	ctx := context.Background()
	err := d.tx(ctx, func(sqlTx *sql.Tx) error {
		tx := certWriteTx{tx: sqlTx, stmts: stmts}
		if len(batch) == 1 {
			// Alone in its transaction: no savepoint needed.
			w := batch[0]
			if errs[0] = w.ctx.Err(); errs[0] == nil {
				errs[0] = w.fn(context.WithoutCancel(w.ctx), tx)
			}
			return errs[0]
		}
		for i, w := range batch {
			if errs[i] = w.ctx.Err(); errs[i] != nil {
				continue
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT certificate_write`); err != nil {
				return err
			}
			if errs[i] = w.fn(context.WithoutCancel(w.ctx), tx); errs[i] != nil {
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO certificate_write`); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE certificate_write`); err != nil {
				return err
			}
		}
		return nil
	})
	for i, w := range batch {
		switch {
		case err == nil:
		case len(batch) == 1 && errs[i] != nil:
			// The write's own error, for which its transaction was rolled back.
		default:
			errs[i] = fmt.Errorf("store: certificate write: %w", err)
		}
		w.done <- errs[i]
	}
}

func (d *DB) certificateWhere(ctx context.Context, where string, arg any) (certs.Certificate, error) {
	c, err := scanCertificate(d.queryRow(ctx, `SELECT `+certColumns+` FROM certificates c WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return certs.Certificate{}, certs.ErrNotFound
	}
	if err != nil {
		return certs.Certificate{}, fmt.Errorf("store: certificate: %w", err)
	}
	return c, nil
}

// CertificateBySerial returns a certificate by its hex serial.
func (d *DB) CertificateBySerial(ctx context.Context, serial string) (certs.Certificate, error) {
	return d.certificateWhere(ctx, `c.serial = $1`, serial)
}

// CertificateHeadBySerial returns a certificate by its hex serial without
// its bytes (TBS and DER): what an OCSP answer needs, read on every OCSP
// request.
func (d *DB) CertificateHeadBySerial(ctx context.Context, serial string) (certs.Certificate, error) {
	c, err := scanCertificate(d.queryRow(ctx, `SELECT `+certHeadColumns+` FROM certificates c WHERE c.serial = $1`, serial))
	if errors.Is(err, sql.ErrNoRows) {
		return certs.Certificate{}, certs.ErrNotFound
	}
	if err != nil {
		return certs.Certificate{}, fmt.Errorf("store: certificate: %w", err)
	}
	return c, nil
}

// CertificateByFingerprint returns a certificate by its SHA-256 fingerprint.
func (d *DB) CertificateByFingerprint(ctx context.Context, fingerprint string) (certs.Certificate, error) {
	return d.certificateWhere(ctx, `c.fingerprint = $1`, fingerprint)
}

// CertificateByID returns a certificate by its record ID.
func (d *DB) CertificateByID(ctx context.Context, id int64) (certs.Certificate, error) {
	return d.certificateWhere(ctx, `c.id = $1`, id)
}

// activeSlot is the condition "holds the user's active place" on the
// certificates table (qualified by prefix), written so that the engine finds
// the user's row through the partial index certificates_one_active: SQLite
// does not see that "active_slot = TRUE" implies the index's
// "active_slot = 1", and would scan the whole table.
func (d *DB) activeSlot(prefix string) string {
	if d.dialect == SQLite {
		return prefix + "active_slot = 1"
	}
	return prefix + "active_slot = TRUE"
}

// CurrentCertificate returns the certificate in the user's active place.
func (d *DB) CurrentCertificate(ctx context.Context, userID int64) (certs.Certificate, error) {
	return d.certificateWhere(ctx, `c.user_id = $1 AND `+d.activeSlot("c."), userID)
}

// ListCertificates returns an organization's certificates (all when 0),
// newest first.
func (d *DB) ListCertificates(ctx context.Context, organizationID int64) ([]certs.Certificate, error) {
	q := `SELECT ` + certColumns + ` FROM certificates c`
	var args []any
	if organizationID != 0 {
		q += ` WHERE c.organization_id = $1`
		args = append(args, organizationID)
	}
	rows, err := d.db.QueryContext(ctx, q+` ORDER BY c.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list certificates: %w", err)
	}
	defer rows.Close()
	var out []certs.Certificate
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list certificates: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MarkCertificateUsed records that certificate id was used to log in at
// at: its first use, if it had none, and its last.
func (d *DB) MarkCertificateUsed(ctx context.Context, id int64, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE certificates SET first_used_at = COALESCE(first_used_at, $2), last_used_at = $2 WHERE id = $1`, id, micros(at))
	if err != nil {
		return fmt.Errorf("store: mark certificate used: %w", err)
	}
	return nil
}
