package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kinko/internal/audit"
	"kinko/internal/outbox"
)

// mailPayment reads the transfer or batch a banking mail's event names
// (its TransferID or BatchID), as it stands now: its amount, payee and
// date, its requester, the comment of the step the event records (a
// send-back or a rejection), and the users who may approve it. It returns
// nil when the event names none, or it is not found.
func (d *DB) mailPayment(ctx context.Context, ev audit.Event) (*outbox.Payment, error) {
	p := outbox.Payment{TransferID: ev.TransferID, BatchID: ev.BatchID}
	var org, requester int64
	var failure sql.NullString
	var err error
	switch {
	case ev.BatchID != 0:
		err = d.queryRow(ctx, `SELECT organization_id, status, total, item_count, execution_date, source_file, failure_reason, requested_by
			FROM transfer_batches WHERE id = $1`, ev.BatchID).
			Scan(&org, &p.Status, &p.Amount, &p.Count, &p.ExecutionDate, &p.SourceFile, &failure, &requester)
	case ev.TransferID != 0:
		p.Count = 1
		err = d.queryRow(ctx, `SELECT organization_id, status, amount, payee_name, payee_bank_code, payee_branch_code, execution_date,
			failure_reason, requested_by FROM transfers WHERE id = $1`, ev.TransferID).
			Scan(&org, &p.Status, &p.Amount, &p.PayeeName, &p.PayeeBankCode, &p.PayeeBranchCode, &p.ExecutionDate, &failure, &requester)
	default:
		return nil, nil
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("payment: %w", err)
	}
	p.FailureReason = failure.String
	p.Requester, err = d.mailPerson(ctx, requester)
	if err != nil {
		return nil, err
	}
	action := ""
	switch ev.Type {
	case audit.TransferSentBack:
		action = "sent_back"
	case audit.TransferRejected:
		action = "rejected"
	}
	if action != "" {
		col, id := "transfer_id", ev.TransferID
		if ev.BatchID != 0 {
			col, id = "batch_id", ev.BatchID
		}
		err := d.queryRow(ctx, `SELECT comment FROM transfer_events WHERE `+col+` = $1 AND action = $2 AND at <= $3
			ORDER BY id DESC LIMIT 1`, id, action, micros(ev.At)).Scan(&p.Comment)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("payment: comment: %w", err)
		}
	}
	if ev.Type == audit.TransferRequested || ev.Type == audit.TransferResubmitted {
		if p.Approvers, err = d.mailApprovers(ctx, org, requester); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// mailPerson reads user id as a mail names and addresses them; a zero
// Person when there is no such user.
func (d *DB) mailPerson(ctx context.Context, id int64) (outbox.Person, error) {
	var p outbox.Person
	var role string
	var deleted, locked sql.NullInt64
	err := d.queryRow(ctx, `SELECT id, name, login_id, email, role, deleted_at, locked_at FROM users WHERE id = $1`, id).
		Scan(&p.ID, &p.Name, &p.LoginID, &p.Email, &role, &deleted, &locked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return outbox.Person{}, nil
	case err != nil:
		return outbox.Person{}, fmt.Errorf("user %d: %w", id, err)
	}
	p.Master, p.Deleted, p.Locked = role == "master", deleted.Valid, locked.Valid
	return p, nil
}

// mailApprovers reads the users of organization org who may approve a
// request of requester: its master user and the users with the approval
// privilege, not the requester, not deleted, not locked, with an address;
// the master user first, then in order of id.
func (d *DB) mailApprovers(ctx context.Context, org, requester int64) ([]outbox.Person, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT u.id, u.name, u.login_id, u.email, u.role
		FROM users u LEFT JOIN privileges p ON p.user_id = u.id
		WHERE u.organization_id = $1 AND u.id <> $2 AND u.deleted_at IS NULL AND u.locked_at IS NULL AND u.email <> ''
		AND (u.role = 'master' OR p.approval = $3)
		ORDER BY CASE WHEN u.role = 'master' THEN 0 ELSE 1 END, u.id`, org, requester, true)
	if err != nil {
		return nil, fmt.Errorf("approvers: %w", err)
	}
	defer rows.Close()
	var out []outbox.Person
	for rows.Next() {
		var p outbox.Person
		var role string
		if err := rows.Scan(&p.ID, &p.Name, &p.LoginID, &p.Email, &role); err != nil {
			return nil, fmt.Errorf("approvers: %w", err)
		}
		p.Master = role == "master"
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("approvers: %w", err)
	}
	return out, nil
}
