package operators

import (
	"errors"
	"time"
)

// Session is an operator's session of the console: bound to the
// fingerprint of the operator certificate it was made on, carrying the
// form token of its pages. Only the hash of its ID is kept.
type Session struct {
	IDHash      string
	StaffID     int64
	Fingerprint string
	FormToken   string
	CreatedAt   time.Time
	LastSeenAt  time.Time
}

// ErrNoSession is the error of a console session that does not exist.
var ErrNoSession = errors.New("operators: no such console session")
