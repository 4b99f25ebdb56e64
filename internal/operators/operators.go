// Package operators holds the bank's operators (its staff), their roles,
// their certificates for the operator console, and the written requests
// they act on: an action that changes a customer's security or money is
// filed by one operator with the request's reference and takes effect only
// when a different operator with the approver role approves it
// (maker-checker).
package operators

import (
	"encoding/json"
	"time"
)

// Role is what an operator may do.
type Role string

// Roles.
const (
	// RoleClerk (担当者) files requests and does what needs no second
	// person (finding, reading, opening accounts, exports).
	RoleClerk Role = "clerk"
	// RoleApprover (承認者) does what a clerk does, approves or rejects
	// other operators' requests, and adds operators.
	RoleApprover Role = "approver"
	// RoleAuditor (監査) reads only.
	RoleAuditor Role = "auditor"
)

// Staff is one operator.
type Staff struct {
	ID          int64
	Name        string // the login name, unique without regard to case: "sato"
	DisplayName string // "佐藤 花子"
	Role        Role
	CreatedAt   time.Time
	DisabledAt  time.Time // zero: active
}

// Kind is the kind of a written request that needs a second operator.
type Kind string

// Kinds.
const (
	KindOrganizationCreate Kind = "organization_create" // OrganizationCreate
	KindCertificateLogin   Kind = "certificate_login"   // CertificateLogin
	KindCertificateRevoke  Kind = "certificate_revoke"  // CertificateRevoke
	KindUserUnlock         Kind = "user_unlock"         // UserUnlock
	KindPasswordReset      Kind = "password_reset"      // PasswordReset
	KindDeposit            Kind = "deposit"             // Deposit
	KindLimitSet           Kind = "limit_set"           // LimitSet
)

// Status is where a request stands.
type Status string

// Statuses.
const (
	StatusPending  Status = "pending"  // filed, waiting for a second operator
	StatusApproved Status = "approved" // approved and carried out
	StatusRejected Status = "rejected" // rejected, with a reason; nothing done
	StatusFailed   Status = "failed"   // approved, but the action was refused (Request.Reason says why); nothing done
)

// Request is one written request.
type Request struct {
	ID               int64
	Kind             Kind
	Ref              string // the written request's reference, once per kind
	OrganizationCode string // the organization it concerns; "" until an organization_create is carried out
	Params           json.RawMessage
	Status           Status
	Maker            string          // the filing operator's Name
	Checker          string          // the deciding operator's Name
	Reason           string          // why it was rejected, or why the action was refused
	Result           json.RawMessage // what the action did (never a password)
	FiledAt          time.Time
	DecidedAt        time.Time
}

// The parameters of each kind, as Request.Params holds them.
type (
	OrganizationCreate struct {
		Name          string `json:"name"`
		MasterLoginID string `json:"master_login_id"`
		MasterName    string `json:"master_name"`
		MasterEmail   string `json:"master_email"`
	}
	CertificateLogin struct {
		OrganizationCode string `json:"organization_code"`
		Enable           bool   `json:"enable"`
	}
	CertificateRevoke struct {
		Serial string `json:"serial"`
		Reason string `json:"reason"` // unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation
	}
	UserUnlock struct {
		LoginID string `json:"login_id"`
	}
	PasswordReset struct {
		LoginID string `json:"login_id"`
	}
	Deposit struct {
		BranchCode    string `json:"branch_code"`
		AccountType   string `json:"account_type"` // ordinary, current
		AccountNumber string `json:"account_number"`
		Amount        int64  `json:"amount"`
		Description   string `json:"description"`
	}
	LimitSet struct {
		OrganizationCode string `json:"organization_code"`
		Daily            int64  `json:"daily"`
	}
)
