package config

import (
	"strings"
	"testing"
)

func TestDBMaxOpenConns_FromFileAndEnv(t *testing.T) {
	p := writeFile(t, "kinko.json", `{"db_max_open_conns": 12}`)
	tests := []struct {
		name string
		path string
		env  map[string]string
		want int
	}{
		{"default: the engine's", "", nil, 0},
		{"file", p, nil, 12},
		{"variable over file", p, map[string]string{"KINKO_DB_MAX_OPEN_CONNS": "40"}, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.path, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.DBMaxOpenConns != tt.want {
				t.Errorf("db_max_open_conns = %d, want %d", c.DBMaxOpenConns, tt.want)
			}
		})
	}
}

func TestDBMaxOpenConns_OutOfRangeRefused(t *testing.T) {
	for _, n := range []int{-1, MaxDBConns + 1} {
		c := defaults()
		c.DBMaxOpenConns = n
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "db_max_open_conns") {
			t.Errorf("db_max_open_conns %d: %v, want an error naming the key", n, err)
		}
	}
	c := defaults()
	c.DBMaxOpenConns = MaxDBConns
	if err := c.Validate(); err != nil {
		t.Errorf("db_max_open_conns %d: %v", MaxDBConns, err)
	}
}

func TestRedacted_KeyValueDSNPasswordHidden(t *testing.T) {
	tests := []struct{ db, secret, keep string }{
		{"host=db.internal dbname=kinko user=kinko password=s3cret-pw sslmode=verify-full", "s3cret-pw", "sslmode=verify-full"},
		{"password='a s3cret pw' host=db.internal dbname=kinko", "s3cret", "host=db.internal"},
		{"host=db.internal password = s3cret-pw", "s3cret-pw", "host=db.internal"},
		{"host=db.internal sslpassword=s3cret-pw user=kinko", "s3cret-pw", "user=kinko"},
	}
	for _, tt := range tests {
		c := defaults()
		c.DB = tt.db
		s := c.Redacted()
		if strings.Contains(s, tt.secret) || !strings.Contains(s, tt.keep) || !strings.Contains(s, "REDACTED") {
			t.Errorf("Redacted() of db %q = %s; want the password hidden and %q kept", tt.db, s, tt.keep)
		}
	}
}
