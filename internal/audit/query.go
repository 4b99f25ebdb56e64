package audit

import "time"

// Query selects events of the audit log as the bank's operators read it;
// zero fields select all.
type Query struct {
	OrganizationCode string
	Type             Type
	Actor            string // exactly, such as "operator:sato"
	Since, Until     time.Time
	Limit            int
}

// Entry is an event with what a reader needs instead of internal IDs: the
// organization's code and the user's login ID.
type Entry struct {
	ID int64
	Event
	OrganizationCode string // "" when the event concerns no organization
	LoginID          string // "" when it concerns no user
}
