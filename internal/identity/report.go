package identity

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// ReportAddresses is how many distinct addresses a report of failed
// attempts keeps, the most recent ones: whatever an attacker does, a user
// has at most this many rows for the attempts since the last login and
// as many for the report shown since.
const ReportAddresses = 5

// FailureSource is where failed attempts came from: an address (empty when
// unknown), the channel of the last failure from it and its time.
type FailureSource struct {
	Address string
	Channel string
	At      time.Time
}

// FailureReport is what a user is told after logging in: how many
// attempts with the user's login ID failed between the previous login and
// this one, and the most recent addresses they came from.
type FailureReport struct {
	Count   int
	Sources []FailureSource // newest first, at most ReportAddresses
}

// addressText is how an attempt's address is recorded.
func addressText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().WithZone("").String()
}

// recordFailureSource counts a failed attempt on a known user for the
// report the user sees at the next login.
func recordFailureSource(ctx context.Context, tx Tx, userID int64, from netip.Addr, channel string, now time.Time) error {
	return tx.AddFailureSource(ctx, userID, FailureSource{Address: addressText(from), Channel: channel, At: now}, ReportAddresses)
}

// StartReport makes the failed attempts since the user's last login the
// report of this login, shown until the next one, and starts counting
// anew. It is called once per login, before the session exists.
func (s *Service) StartReport(ctx context.Context, userID int64) error {
	err := s.store.InIdentityTx(ctx, func(tx Tx) error { return tx.RollFailureReport(ctx, userID) })
	if err != nil {
		return fmt.Errorf("identity: start failure report: %w", err)
	}
	return nil
}

// FailureReport returns the report of failed attempts made at the user's
// last login.
func (s *Service) FailureReport(ctx context.Context, userID int64) (FailureReport, error) {
	r, err := s.store.FailureReport(ctx, userID)
	if err != nil {
		return FailureReport{}, fmt.Errorf("identity: failure report: %w", err)
	}
	return r, nil
}
