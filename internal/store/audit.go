package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"kinko/internal/audit"
)

type auditEvent = audit.Event

// AppendAudit appends an event that goes with no other change (a failed
// login, a refusal).
func (d *DB) AppendAudit(ctx context.Context, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return insertAudit(ctx, tx, ev) })
}

// AuditFilter selects audit events; zero fields select all.
type AuditFilter struct {
	OrganizationID int64
	UserID         int64
	Type           string
	Since, Until   time.Time
	Limit          int
	NewestFirst    bool // newest first instead of in order of recording
}

// ListAudit returns audit events in order of recording, or newest first
// when f.NewestFirst is set (with Limit: the newest Limit events).
func (d *DB) ListAudit(ctx context.Context, f AuditFilter) ([]audit.Event, error) {
	q := `SELECT at, type, actor, organization_id, user_id, serial, request_ref, detail FROM audit_events WHERE 1 = 1`
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
	var out []audit.Event
	for rows.Next() {
		var ev audit.Event
		var at int64
		var org, user sql.NullInt64
		var serial, ref sql.NullString
		if err := rows.Scan(&at, &ev.Type, &ev.Actor, &org, &user, &serial, &ref, &ev.Detail); err != nil {
			return nil, fmt.Errorf("store: list audit: %w", err)
		}
		ev.At, ev.OrganizationID, ev.UserID, ev.Serial, ev.RequestRef = fromMicros(at), org.Int64, user.Int64, serial.String, ref.String
		out = append(out, ev)
	}
	return out, rows.Err()
}
