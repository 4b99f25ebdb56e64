// Package audit defines the security events that kinko records. Every
// signature, revocation, login, user change and operator action is an Event,
// written by the store in the same transaction as the change it describes.
// This package must never depend on a database or on the domain packages.
package audit

import "time"

// Event types.
const (
	LoginSucceeded           = "login.succeeded"
	LoginFailed              = "login.failed"
	UserLocked               = "user.locked"
	UserUnlocked             = "user.unlocked"
	UserCreated              = "user.created"
	PasswordChanged          = "user.password_changed"
	OrganizationCreated      = "organization.created"
	CertificateLoginEnabled  = "organization.certificate_login_enabled"
	CertificateLoginDisabled = "organization.certificate_login_disabled"
	CertificateRequested     = "certificate.requested"
	CertificateIssued        = "certificate.issued"
	CertificateRevoked       = "certificate.revoked"
	CertificateRefused       = "certificate.refused"
	SessionEnded             = "session.ended"
)

// Actor prefixes: "user:<login ID>", "operator:<name>", "system".
const System = "system"

// UserActor names a customer user as an actor.
func UserActor(loginID string) string { return "user:" + loginID }

// OperatorActor names a bank operator as an actor.
func OperatorActor(name string) string { return "operator:" + name }

// Event is one security event.
type Event struct {
	At             time.Time
	Type           string
	Actor          string
	OrganizationID int64  // 0 when none
	UserID         int64  // 0 when none
	Serial         string // certificate serial in hex, when the event is about one
	RequestRef     string // reference of the written request behind a bank's action
	Detail         string // short free text: a cause, a reason
}
