package operators

import (
	"errors"

	"kinko/internal/identity"
)

// The shapes of the operators' service that the console speaks of.

// NewStaff is an operator to add.
type NewStaff struct {
	Name, DisplayName string
	Role              Role
}

// Filter selects requests; zero fields select all.
type Filter struct {
	Status           Status
	Kind             Kind
	OrganizationCode string
	Limit            int
}

// Outcome is what an approval shows once and never stores: the new
// organization's code, and for organization_create and password_reset the
// new initial passwords (for the 暗証番号通知書).
type Outcome struct {
	OrganizationCode, LoginID string
	Passwords                 *identity.InitialPasswords
}

// Errors of the service.
var (
	ErrNotFound   = errors.New("operators: not found")
	ErrForbidden  = errors.New("operators: the operator's role does not allow it")
	ErrOwnRequest = errors.New("operators: an operator cannot decide their own request")
	ErrDecided    = errors.New("operators: the request is decided already")
	ErrRefUsed    = errors.New("operators: the request reference is used already for this kind")
	ErrInvalid    = errors.New("operators: invalid request")
)
