package hsm

import (
	"crypto/rand"
	"fmt"
)

// randomID makes a CKA_ID for a key generated without one.
func randomID() ([]byte, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("hsm: %w", err)
	}
	return id, nil
}
