package certs

import (
	"context"
	"errors"
	"time"

	"kinko/internal/audit"
)

// ErrPlaceTaken is what Tx.InsertPending returns when another record holds
// the user's active place: the database's own guard of R6's one
// certificate per user, which the rules checked before it should never
// meet.
var ErrPlaceTaken = errors.New("certs: another certificate holds the user's active place")

// Store is what certs needs from storage: reads outside any transaction,
// and InTx, in which every certificate record is changed. The store decides
// nothing: the reads return rows, and a missing row is ErrNotFound.
type Store interface {
	// InTx runs fn in one transaction: committed when fn returns nil,
	// rolled back otherwise. fn's error is returned as it is. fn must use
	// only tx for the database and must not wait for anything else that
	// writes to it. The store may run the Tx's methods under InTx's
	// context rather than the one they are given, and may share the
	// transaction with other certificate writes (each then still all or
	// nothing), so that a write, once started, runs to its end.
	InTx(ctx context.Context, fn func(tx Tx) error) error

	CertificateBySerial(ctx context.Context, serial string) (Certificate, error)
	CertificateByFingerprint(ctx context.Context, fingerprint string) (Certificate, error)
	CertificateByID(ctx context.Context, id int64) (Certificate, error)
	// CurrentCertificate returns the certificate in the user's active place.
	CurrentCertificate(ctx context.Context, userID int64) (Certificate, error)
	ListCertificates(ctx context.Context, organizationID int64) ([]Certificate, error)
	// MarkCertificateUsed records that certificate id was used to log in
	// at at: its first use, if it had none, and its last.
	MarkCertificateUsed(ctx context.Context, id int64, at time.Time) error
	AppendAudit(ctx context.Context, ev audit.Event) error

	// RecordExpiryNotice records that the expiry notice of occasion was
	// given for a certificate on day, and appends ev, unless a notice was
	// already recorded for the certificate and occasion or day. It reports
	// whether it recorded one.
	RecordExpiryNotice(ctx context.Context, certificateID int64, occasion, day string, now time.Time, ev audit.Event) (bool, error)
	// ExpiringCertificates returns the issued certificates in their users'
	// active places whose notAfter is in (from, to] and that have no
	// expiry notice for occasion, through an index on notAfter: the
	// certificates due for a reminder, never every issued certificate.
	ExpiringCertificates(ctx context.Context, from, to time.Time, occasion string) ([]Certificate, error)
}

// Tx is one transaction of the store. Its methods are data operations:
// lock rows, read and count records, insert and update them, end sessions,
// append audit events. They decide nothing; every rule (R6, R7, R9, R11,
// R12) is checked by certs between them.
//
// A user's active place is the one record of the user that holds it
// (pending, issued, or issued and expired until a new record takes the
// place); the database allows at most one.
//
// Lock order. A transaction takes only the locks it needs, always in this
// order, so that no two transactions wait on each other in a cycle:
//
//  1. LockOrganization: every change of an organization's certificate
//     records but storing a signature takes it first, so that the
//     decisions on one organization's places and its limit are taken one
//     at a time;
//  2. the certificate records: LockCertificate, and the updates
//     (SetIssued, which a signature's transaction takes alone, LeavePlace,
//     TakePlace, SetRevoked), in any order under the organization's lock;
//  3. EndSessions: the sessions bound to a revoked certificate;
//  4. AppendAudit, last: appending locks the head of the audit chain.
//
// On SQLite the transaction holds the database's write lock from its
// start, and the locks only read.
type Tx interface {
	// LockOrganization locks an organization's row for the decisions on
	// its certificates.
	LockOrganization(ctx context.Context, organizationID int64) error
	// LockCertificate reads and locks a certificate record; ErrNotFound if
	// there is none.
	LockCertificate(ctx context.Context, id int64) (Certificate, error)
	// ActiveCertificate reads the record in the user's active place: its
	// ID, serial, user, organization, status, notAfter, creation time and
	// the ID it renews, nothing else. ErrNotFound when the place is free.
	ActiveCertificate(ctx context.Context, userID int64) (Certificate, error)
	// CountActive returns the number of an organization's records in their
	// users' active places that are pending or whose notAfter is at or
	// after at.
	CountActive(ctx context.Context, organizationID int64, at time.Time) (int, error)

	// InsertPending inserts c as a pending record in its user's active
	// place (as the renewal of c.Renews, when set) and fills c.ID;
	// ErrPlaceTaken when another record holds the place.
	InsertPending(ctx context.Context, c *Certificate) error
	// SetIssued stores the signed certificate of record id and its
	// fingerprint, with status issued, if the record is pending; it reports
	// whether it was.
	SetIssued(ctx context.Context, id int64, der []byte, fingerprint string, issuedAt time.Time) (bool, error)
	// LeavePlace takes a record out of its user's active place.
	LeavePlace(ctx context.Context, id int64) error
	// TakePlace puts a record into its user's active place.
	TakePlace(ctx context.Context, id int64) error
	// SetRevoked marks a record revoked as r says and takes it out of its
	// user's active place.
	SetRevoked(ctx context.Context, id int64, r Revocation) error
	// EndSessions ends the sessions bound to a certificate.
	EndSessions(ctx context.Context, certificateID int64) error
	// AppendAudit appends an event to the audit chain, with the mails it
	// causes. It comes last in a transaction (see the lock order).
	AppendAudit(ctx context.Context, ev audit.Event) error
}
