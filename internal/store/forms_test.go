package store_test

import (
	"context"
	"testing"
	"time"

	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestKeptFormIsShownOnce: a kept form is read once, by its browser's key
// and its path only, and not after it expired.
func TestKeptFormIsShownOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
		if err := db.SaveForm(ctx, "k1", "/login", 403, []byte("first"), now, now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		// A second refusal of the same form replaces the first.
		if err := db.SaveForm(ctx, "k1", "/login", 400, []byte("second"), now, now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveForm(ctx, "k1", "/users", 409, []byte("old"), now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ key, path string }{{"k2", "/login"}, {"k1", "/password"}} {
			if _, page, err := db.TakeForm(ctx, tc.key, tc.path, now); err != nil || page != nil {
				t.Errorf("take %s %s: %q %v, want none", tc.key, tc.path, page, err)
			}
		}
		status, page, err := db.TakeForm(ctx, "k1", "/login", now)
		if err != nil || status != 400 || string(page) != "second" {
			t.Fatalf("take: %d %q %v, want 400 second", status, page, err)
		}
		if _, page, err := db.TakeForm(ctx, "k1", "/login", now); err != nil || page != nil {
			t.Fatalf("second take: %q %v, want none", page, err)
		}
		if _, page, err := db.TakeForm(ctx, "k1", "/users", now.Add(2*time.Minute)); err != nil || page != nil {
			t.Fatalf("take after expiry: %q %v, want none", page, err)
		}
		// Expired forms are deleted by the next save.
		if err := db.SaveForm(ctx, "k3", "/users", 409, []byte("x"), now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveForm(ctx, "k4", "/users", 409, []byte("y"), now.Add(2*time.Minute), now.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, page, err := db.TakeForm(ctx, "k3", "/users", now); err != nil || page != nil {
			t.Fatalf("expired form left after a save: %q %v", page, err)
		}
	})
}
