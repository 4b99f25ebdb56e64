package testutil

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"kinko/internal/identity"
	"kinko/internal/store"
)

// BankSize is the size of a bank that FillBank makes.
type BankSize struct {
	Organizations        int
	UsersPerOrganization int // the first is the master user
	// RevokedEvery: every RevokedEvery-th user's certificate is revoked.
	RevokedEvery int
	// LoginsPerUser successful logins of each user in the audit log,
	// spread over the year before the bank's now.
	LoginsPerUser int
	// PostingsPerAccount deposits on each organization's one account,
	// one every few days of the year.
	PostingsPerAccount int
}

// FullBank is the bank of 100,000 organizations: 2,000,000 users each with
// a certificate, 200,000 of them revoked, 10,000,000 login events and
// 10,000,000 postings.
var FullBank = BankSize{Organizations: 100_000, UsersPerOrganization: 20, RevokedEvery: 10, LoginsPerUser: 5, PostingsPerAccount: 100}

// ScaledBank is FullBank with scale times the organizations (at least
// one), each of the same make-up: ScaledBank(0.01) has 1,000 organizations
// and 20,000 users.
func ScaledBank(scale float64) BankSize {
	s := FullBank
	s.Organizations = max(1, int(float64(s.Organizations)*scale))
	return s
}

// Users is the number of users (and certificates) of the bank.
func (s BankSize) Users() int { return s.Organizations * s.UsersPerOrganization }

// FilledBank tells what FillBank wrote, so that tests can say what each
// row must be without asking the database.
type FilledBank struct {
	Size BankSize
	// Now is the bank's present: the year of events and postings ends
	// here, and every certificate was issued in the 540 days before it.
	Now time.Time
	// Password is every user's login and confirmation password (one
	// argon2id hash, made once, for all).
	Password string
	// CertificateDER is the one real certificate whose bytes every
	// certificate row holds (see FillBank).
	CertificateDER []byte

	orgBase, userBase, certBase, accountBase int64
}

// FilledCertificate is what FillBank wrote for the certificate of user i
// (0-based).
type FilledCertificate struct {
	ID, UserID, OrganizationID int64
	Serial, Fingerprint        string
	NotAfter                   time.Time
	Revoked                    bool
	RevokedAt                  time.Time
}

const (
	day    = int64(24 * time.Hour / time.Microsecond)
	minute = int64(time.Minute / time.Microsecond)
	// fillSpread is the days over which issuances are spread: a third of
	// the certificates have expired at Now.
	fillSpread = 540
	// fillStride spreads consecutive users over the days.
	fillStride = 7919
)

// issuedOffset is the microseconds before now at which user i's
// certificate was issued; the SQL of FillBank computes the same.
func issuedOffset(i int64) int64 { return (i*fillStride%fillSpread)*day + (i%1440)*minute }

// Certificate returns what FillBank wrote for user i's certificate.
func (b *FilledBank) Certificate(i int) FilledCertificate {
	n := int64(i)
	issued := b.Now.UnixMicro() - issuedOffset(n)
	c := FilledCertificate{
		ID: b.certBase + n + 1, UserID: b.userBase + n + 1,
		OrganizationID: b.orgBase + n/int64(b.Size.UsersPerOrganization) + 1,
		Serial:         fmt.Sprintf("5a%014x", n+1), Fingerprint: fmt.Sprintf("%064x", n+1),
		NotAfter: time.UnixMicro(issued + 365*day).UTC(),
		Revoked:  n%int64(b.Size.RevokedEvery) == 0,
	}
	if c.Revoked {
		c.RevokedAt = time.UnixMicro(issued + (n%30+1)*day/2).UTC()
		if c.RevokedAt.After(b.Now) {
			c.RevokedAt = b.Now
		}
	}
	return c
}

// UserID returns the ID of user i (0-based); user 0 of each organization
// is its master.
func (b *FilledBank) UserID(i int) int64 { return b.userBase + int64(i) + 1 }

// LoginID returns user i's login ID.
func (b *FilledBank) LoginID(i int) string { return fmt.Sprintf("fb%08d", b.userBase+int64(i)+1) }

// OrganizationID returns the ID of organization j (0-based).
func (b *FilledBank) OrganizationID(j int) int64 { return b.orgBase + int64(j) + 1 }

// LoginTimes returns user i's successful logins, newest first: the audit
// events FillBank wrote for it.
func (b *FilledBank) LoginTimes(i int) []time.Time {
	var out []time.Time
	for k := int64(b.Size.LoginsPerUser); k >= 1; k-- {
		out = append(out, time.UnixMicro(b.Now.UnixMicro()-loginOffset(b.userBase+int64(i)+1, k)).UTC())
	}
	slices.SortFunc(out, func(a, b time.Time) int { return b.Compare(a) })
	return out
}

// loginOffset is the microseconds before now of login k (1 the newest) of
// the user with ID u: the SQL of FillBank computes the same.
func loginOffset(u, k int64) int64 { return ((u*31+k*73)%365)*day + k*minute }

// FillBank fills db, whose bank must be empty, with a bank of size s at
// now, in bulk SQL: every row is made by the database from a series
// (generate_series on PostgreSQL, a recursive CTE on SQLite) in one
// statement per table, in one transaction; nothing goes through the
// services. FullBank takes minutes (docs/performance.md gives the figures).
//
// What is real: every table's rows satisfy the schema's constraints, each
// user holds one certificate in its active place unless it was revoked,
// the balances are the sums of the postings, and the dates spread over the
// year before now (certificates over 540 days, so that a third have
// expired). What is synthetic: every user has the same password hash
// (argon2id of FilledBank.Password with the test parameters), every
// certificate row holds the bytes of one real self-signed certificate
// while its serial and fingerprint are its own (unique, made from the row
// number): the lookups by fingerprint and serial, the CRL and OCSP work on
// them, but a TLS handshake with such a certificate is not possible. The
// login events are inserted without the audit chain's hashes.
func FillBank(ctx context.Context, db *store.DB, s BankSize, now time.Time) (*FilledBank, error) {
	b := &FilledBank{Size: s, Now: now.UTC().Truncate(time.Microsecond), Password: "Fill-Bank-Password-1"}
	hash, err := identity.Hasher{Params: FastHasher}.Hash(b.Password)
	if err != nil {
		return nil, err
	}
	der, tbs, err := fillCertificate(now)
	if err != nil {
		return nil, err
	}
	b.CertificateDER = der
	pg := db.Dialect() == store.Postgres
	series := func(n int) string {
		if pg {
			return fmt.Sprintf("generate_series(1::bigint, %d) AS g(i)", n)
		}
		return fmt.Sprintf("(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) SELECT i FROM s) AS g", n)
	}
	pad := func(format, expr string, width int, hexa bool) string {
		if !pg {
			verb := "d"
			if hexa {
				verb = "x"
			}
			return fmt.Sprintf("printf('%s%%0%d%s', %s)", format, width, verb, expr)
		}
		if hexa {
			return fmt.Sprintf("'%s' || lpad(to_hex(%s), %d, '0')", format, expr, width)
		}
		return fmt.Sprintf("'%s' || lpad((%s)::text, %d, '0')", format, expr, width)
	}
	override := ""
	if pg {
		override = " OVERRIDING SYSTEM VALUE"
	}
	sqldb := db.SQL()
	tx, err := sqldb.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	base := func(table string) (int64, error) {
		var n int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+table).Scan(&n)
		return n, err
	}
	for _, x := range []struct {
		table string
		to    *int64
	}{{"organizations", &b.orgBase}, {"users", &b.userBase}, {"certificates", &b.certBase}, {"accounts", &b.accountBase}} {
		if *x.to, err = base(x.table); err != nil {
			return nil, fmt.Errorf("testutil: fill: %w", err)
		}
	}
	nowUS := b.Now.UnixMicro()
	per := s.UsersPerOrganization
	// user i (1-based) below is the series' number; the user's index of
	// FilledBank is i - 1.
	stmts := []string{
		fmt.Sprintf(`INSERT INTO organizations (id, code, name, certificate_login, created_at)%s
			SELECT %d + i, %s, %s, TRUE, %d FROM %s`, override, b.orgBase,
			pad("9", fmt.Sprintf("%d + i", b.orgBase), 7, false), pad("組合", "i", 6, false), nowUS-400*day, series(s.Organizations)),
		fmt.Sprintf(`INSERT INTO users (id, organization_id, login_id, name, email, role, password_hash, confirmation_hash,
			password_change_required, confirmation_change_required, created_at)%s
			SELECT %d + i, %d + (i - 1) / %d + 1, %s, %s, %s, CASE WHEN (i - 1) %% %d = 0 THEN 'master' ELSE 'general' END,
			$1, $2, FALSE, FALSE, %d FROM %s`, override, b.userBase, b.orgBase, per,
			pad("fb", fmt.Sprintf("%d + i", b.userBase), 8, false), pad("利用者", "i", 8, false),
			pad("fb", fmt.Sprintf("%d + i", b.userBase), 8, false)+" || '@example.org'", per, nowUS-400*day, series(s.Users())),
		// issued = now - issuedOffset(i - 1); revoked every RevokedEvery-th.
		fmt.Sprintf(`INSERT INTO certificates (id, serial, user_id, organization_id, status, active_slot, tbs, der, fingerprint,
			not_before, not_after, created_at, issued_at, revoked_at, revocation_reason, revoked_by)%s
			SELECT %d + i, %s, %d + i, %d + (i - 1) / %d + 1,
				CASE WHEN (i - 1) %% %d = 0 THEN 'revoked' ELSE 'issued' END,
				CASE WHEN (i - 1) %% %d = 0 THEN NULL ELSE TRUE END,
				$1, $2, %s, t - %d, t + %d, t, t,
				CASE WHEN (i - 1) %% %d = 0 THEN MIN(t + ((i - 1) %% 30 + 1) * %d, %d) END,
				CASE WHEN (i - 1) %% %d = 0 THEN 'keyCompromise' END,
				CASE WHEN (i - 1) %% %d = 0 THEN 'operator:fill' END
			FROM (SELECT i, %d - (((i - 1) * %d %% %d) * %d + ((i - 1) %% 1440) * %d) AS t FROM %s) AS c`,
			override, b.certBase, pad("5a", "i", 14, true), b.userBase, b.orgBase, per,
			s.RevokedEvery, s.RevokedEvery, pad("", "i", 64, true), minute, 365*day,
			s.RevokedEvery, day/2, nowUS, s.RevokedEvery, s.RevokedEvery,
			nowUS, fillStride, fillSpread, day, minute, series(s.Users())),
		fmt.Sprintf(`INSERT INTO accounts (id, organization_id, account_type, branch_code, number, holder_name, balance, opened_at, request_ref)%s
			SELECT %d + i, %d + i, 'ordinary', '901', %s, %s, %d, %d, 'FILL' FROM %s`, override, b.accountBase, b.orgBase,
			pad("", fmt.Sprintf("%d + i", b.accountBase), 7, false), pad("ｸﾐｱｲ", "i", 6, false),
			1000*s.PostingsPerAccount, nowUS-400*day, series(s.Organizations)),
	}
	if pg {
		stmts[2] = strings.Replace(stmts[2], "MIN(", "LEAST(", 1)
	}
	// Posting k (1-based) of account a is a deposit of 1,000 yen, k * 3
	// days after a year before now.
	if s.PostingsPerAccount > 0 {
		vd := "strftime('%Y-%m-%d', (" + fmt.Sprint(nowUS-365*day) + " + k * 3 * " + fmt.Sprint(day) + ") / 1000000, 'unixepoch', '+9 hours')"
		if pg {
			vd = "to_char(to_timestamp((" + fmt.Sprint(nowUS-365*day) + " + k * 3 * " + fmt.Sprint(day) + ") / 1000000.0) AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD')"
		}
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO postings (account_id, kind, amount, balance_after, value_date, description, created_at)
			SELECT %d + (i - 1) / %d + 1, 'deposit', 1000, 1000 * k, %s, '入金', %d + k * 3 * %d
			FROM (SELECT i, (i - 1) %% %d + 1 AS k FROM %s) AS p`,
			b.accountBase, s.PostingsPerAccount, vd, nowUS-365*day, day, s.PostingsPerAccount,
			series(s.Organizations*s.PostingsPerAccount)))
	}
	// Login k (1-based, 1 the newest) of the user with ID u is at now -
	// loginOffset(u, k).
	if s.LoginsPerUser > 0 {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO audit_events (at, type, actor, organization_id, user_id, detail)
			SELECT %d - (((u * 31 + k * 73) %% 365) * %d + k * %d), 'login.succeeded', 'user:fill', o, u, 'certificate login'
			FROM (SELECT %d + (i - 1) / %d + 1 AS u, %d + (i - 1) / %d / %d + 1 AS o, %d - (i - 1) %% %d AS k FROM %s) AS l
			ORDER BY 1`,
			nowUS, day, minute, b.userBase, s.LoginsPerUser, b.orgBase, s.LoginsPerUser, per, s.LoginsPerUser, s.LoginsPerUser,
			series(s.Users()*s.LoginsPerUser)))
	}
	for i, q := range stmts {
		var args []any
		switch i {
		case 1:
			args = []any{hash, hash}
		case 2:
			args = []any{tbs, der}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("testutil: fill, statement %d: %w", i+1, err)
		}
	}
	if pg {
		for _, t := range []string{"organizations", "users", "certificates", "accounts"} {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))`, t, t)); err != nil {
				return nil, fmt.Errorf("testutil: fill: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("testutil: fill: %w", err)
	}
	// PostgreSQL: VACUUM sets the visibility map as autovacuum would in a
	// bank running for a year, so that index-only scans (the count of
	// revoked certificates) need not visit the heap, and autovacuum does
	// not start on the new rows while they are measured.
	analyze := "ANALYZE"
	if pg {
		analyze = "VACUUM (ANALYZE) organizations, users, certificates, accounts, postings, audit_events"
	}
	if _, err := sqldb.ExecContext(ctx, analyze); err != nil {
		return nil, fmt.Errorf("testutil: fill: %w", err)
	}
	return b, nil
}

// fillCertificate makes the one real certificate whose bytes the filled
// rows hold: self-signed, P-256, for a year from now.
func fillCertificate(now time.Time) (der, tbs []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fill"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(1, 0, 0)}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return der, c.RawTBSCertificate, nil
}
