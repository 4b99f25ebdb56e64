package console

import (
	"errors"
	"testing"

	"kinko/internal/operators"
	"kinko/internal/outbox"
)

// TestCatalogueHasEveryKeyTheCodeUses: the messages the code chooses
// (errors, kinds, roles, states) are in the catalogue in both languages;
// the pages' own keys are checked by rendering every page in both.
func TestCatalogueHasEveryKeyTheCodeUses(t *testing.T) {
	cat, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range []error{errRequired, errNumber, errDate, errNoStaff, errNoCert, errOtherCert, errNotFound, errNoExport,
		errDownloadGone, operators.ErrForbidden, operators.ErrOwnRequest, operators.ErrDecided, operators.ErrRefUsed,
		operators.ErrInvalid, operators.ErrNotFound, outbox.ErrNotFound, outbox.ErrNotFailed, errors.New("anything else")} {
		_, k := refusal(e)
		keys = append(keys, k)
	}
	for _, k := range kinds {
		keys = append(keys, "console.kind."+string(k), "console.kind."+string(k)+".intro")
	}
	for _, r := range roles {
		keys = append(keys, "console.role."+string(r))
	}
	for _, s := range []operators.Status{operators.StatusPending, operators.StatusApproved, operators.StatusRejected, operators.StatusFailed} {
		keys = append(keys, "console.status."+string(s))
	}
	for _, s := range outboxStates {
		keys = append(keys, "console.outbox.state."+string(s))
	}
	for _, r := range revocationReasons {
		keys = append(keys, "console.revocation."+r)
	}
	for _, s := range []string{"pending", "issued", "revoked"} {
		keys = append(keys, "console.cert.status."+s)
	}
	for _, l := range languages {
		for _, k := range keys {
			if !cat.Has(string(l), k) {
				t.Errorf("%s: no message %q", l, k)
			}
		}
	}
}

func TestYenHasThousandsSeparators(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -50000: "-50,000"} {
		if got := yen(n); got != want {
			t.Errorf("yen(%d) = %q, want %q", n, got, want)
		}
	}
}
