package cli

import (
	"context"
	"fmt"

	"kinko/internal/store"
)

// runMigrate is "kinko migrate": apply pending migrations and exit.
func runMigrate(ctx context.Context, args []string, env Env) error {
	fs := newFlags("migrate", env)
	data := fs.String("data", "", "data directory (SQLite database)")
	db := fs.String("db", "", "PostgreSQL DSN")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" && *db == "" {
		return usageErr("--data or --db is required")
	}
	d, err := store.Open(ctx, dsnFor(*data, *db))
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(env.Stdout, "Migrations applied (%s).\n", d.Dialect())
	return nil
}
