package certs

import "context"

// The rules that run inside the store's transactions, for the tests.
var (
	RecordPending = recordPending
	RecordRenewal = recordRenewal
	MarkIssued    = markIssued
)

// Revoke revokes c as a Service would, on st.
func Revoke(ctx context.Context, st Store, c Certificate, r Revocation) (Certificate, error) {
	return (&Service{c: Config{Store: st}}).revoke(ctx, c, r)
}
