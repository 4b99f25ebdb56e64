package store

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// libpqKeywords are the connection parameters of libpq's key=value DSNs
// (PostgreSQL's documentation, 34.1.2) that kinko recognizes as the first
// key of such a DSN.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true,
	"passfile": true, "connect_timeout": true, "options": true, "application_name": true,
	"sslmode": true, "sslcert": true, "sslkey": true, "sslrootcert": true, "sslpassword": true,
	"sslnegotiation": true, "sslsni": true, "service": true, "target_session_attrs": true,
	"krbsrvname": true, "channel_binding": true, "search_path": true,
}

var (
	// keyValueStart matches the first key of a key=value DSN.
	keyValueStart = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=`)
	// urlScheme matches the scheme of a URL-form DSN.
	urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)
)

// parseDSN tells the engine of a DSN and returns what to open: the DSN
// itself for PostgreSQL, the file's path for SQLite. It never puts the DSN
// in an error, as it may hold a password.
func parseDSN(dsn string) (Dialect, string, error) {
	trimmed := strings.TrimSpace(dsn)
	if trimmed == "" {
		return "", "", errors.New("store: no database given (an empty DSN)")
	}
	if m := urlScheme.FindStringSubmatch(trimmed); m != nil {
		switch strings.ToLower(m[1]) {
		case "postgres", "postgresql":
			if _, err := pgconn.ParseConfig(trimmed); err != nil {
				return "", "", fmt.Errorf("store: the PostgreSQL DSN does not parse: %s", parseDetail(err))
			}
			return Postgres, trimmed, nil
		case "sqlite":
			return SQLite, strings.TrimPrefix(trimmed, m[0]), nil
		default:
			return "", "", fmt.Errorf("store: unknown database scheme %q: use postgres://, postgresql://, a key=value PostgreSQL DSN, or a SQLite file path", m[1])
		}
	}
	if m := keyValueStart.FindStringSubmatch(trimmed); m != nil {
		if !libpqKeywords[strings.ToLower(m[1])] {
			return "", "", fmt.Errorf("store: the DSN starts with %q, which is no PostgreSQL connection parameter: a key=value DSN is PostgreSQL's (host=... dbname=... user=...); write a SQLite file whose name has '=' in it as sqlite://PATH", m[1]+"=")
		}
		if _, err := pgconn.ParseConfig(trimmed); err != nil {
			return "", "", fmt.Errorf("store: the PostgreSQL key=value DSN does not parse: %s", parseDetail(err))
		}
		return Postgres, trimmed, nil
	}
	return SQLite, dsn, nil
}

// parseDetail is the reason of a DSN parse error, without the DSN that
// pgconn quotes in it (its redaction of passwords is best effort).
func parseDetail(err error) string {
	s := err.Error()
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		if i := strings.LastIndex(s, "`: "); i >= 0 {
			return s[i+3:]
		}
		return "malformed"
	}
	return s
}

// describeTarget names a database for logs: the SQLite file, or
// PostgreSQL's host, port, database and user, never a password.
func describeTarget(d Dialect, target string) string {
	if d != Postgres {
		return target
	}
	cfg, err := pgconn.ParseConfig(target)
	if err != nil {
		return "postgres"
	}
	return fmt.Sprintf("%s/%s (user %s)", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.Database, cfg.User)
}

// DialectOf tells the engine of a DSN as Open would, without connecting;
// an error if Open would refuse the DSN.
func DialectOf(dsn string) (Dialect, error) {
	d, _, err := parseDSN(dsn)
	return d, err
}
