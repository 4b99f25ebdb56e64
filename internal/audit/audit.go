// Package audit defines the security events that kinko records. Every
// signature, revocation, login, user change and operator action is an Event,
// written by the store in the same transaction as the change it describes.
// This package must never depend on a database or on the domain packages.
package audit

import (
	"strings"
	"time"
)

// Type is the type of an event, such as "certificate.issued".
type Type string

// Event types.
const (
	LoginSucceeded           Type = "login.succeeded"
	LoginFailed              Type = "login.failed"
	UserLocked               Type = "user.locked"
	UserUnlocked             Type = "user.unlocked"
	UserCreated              Type = "user.created"
	PasswordChanged          Type = "user.password_changed"
	OrganizationCreated      Type = "organization.created"
	CertificateLoginEnabled  Type = "organization.certificate_login_enabled"
	CertificateLoginDisabled Type = "organization.certificate_login_disabled"
	CertificateRequested     Type = "certificate.requested"
	CertificateIssued        Type = "certificate.issued"
	CertificateRevoked       Type = "certificate.revoked"
	CertificateRefused       Type = "certificate.refused"
	SessionEnded             Type = "session.ended"
)

// Actor prefixes: "user:<login ID>", "operator:<name>", "system".
const System = "system"

// UserActor names a customer user as an actor.
func UserActor(loginID string) string { return "user:" + loginID }

// OperatorActor names a bank operator as an actor.
func OperatorActor(name string) string { return "operator:" + name }

// Cause says why the system did what an event records, when the type alone
// does not say it and a rule depends on it.
type Cause string

// Causes.
const (
	// NeverSigned: a certificate recorded but never signed (the trace of
	// a crash, or of a revocation before signing) was revoked.
	NeverSigned Cause = "never_signed"
	// SigningFailed: the authority failed to sign a recorded
	// certificate, which was revoked.
	SigningFailed Cause = "signing_failed"
	// Withdrawn: a certificate never used to log in was withdrawn by its
	// own user within a day of its issuance (one issued but never saved).
	Withdrawn Cause = "withdrawn"
)

// Password names one of a user's two passwords.
type Password string

// Passwords.
const (
	LoginPassword        Password = "login"
	ConfirmationPassword Password = "confirmation"
)

// Event is one security event. Programs read its typed fields, never its
// Detail.
type Event struct {
	At             time.Time
	Type           Type
	Actor          string
	OrganizationID int64  // 0 when none
	UserID         int64  // 0 when none
	Serial         string // certificate serial in hex, when the event is about one
	RequestRef     string // reference of the written request behind a bank's action
	// TransferID and BatchID name the transfer or the batch of transfers
	// (総合振込) a banking event is about; 0 when none.
	TransferID int64
	BatchID    int64
	// RequestID is the ID of the HTTP request being served when the event
	// was written (its X-Request-ID, as its log lines name it); empty for
	// a background job or a command. The store takes it from the writing
	// context (RequestIDFrom); no rule sets it.
	RequestID string
	// Reason is the RFC 5280 name of a certificate's revocation reason
	// (keyCompromise), for certificate.revoked.
	Reason string
	// Cause says why the system acted, when a rule depends on it.
	Cause Cause
	// Password is the password changed, for user.password_changed.
	Password Password
	// Detail is short free text for the people who read the log: what
	// the typed fields do not say. No program reads it.
	Detail string
}

// Summary writes the typed fields and the detail of e in words, for
// listings: "reason keyCompromise", "never signed", "login password".
func (e Event) Summary() string {
	var parts []string
	if e.Reason != "" {
		parts = append(parts, "reason "+e.Reason)
	}
	if e.Cause != "" {
		parts = append(parts, strings.ReplaceAll(string(e.Cause), "_", " "))
	}
	if e.Password != "" {
		parts = append(parts, string(e.Password)+" password")
	}
	if e.Detail != "" {
		parts = append(parts, e.Detail)
	}
	return strings.Join(parts, "; ")
}
