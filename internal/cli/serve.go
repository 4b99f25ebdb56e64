package cli

import (
	"context"
	"time"

	"kinko/internal/config"
)

var nowFunc = time.Now

// runServe is "kinko serve": the bank's own installation, from a config file.
func runServe(ctx context.Context, args []string, env Env) error {
	fs := newFlags("serve", env)
	path := fs.String("config", "", "config file (JSON, see docs/config.md); KINKO_* variables override it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, env.Getenv)
	if err != nil {
		return err
	}
	logger := newLogger(env.Stderr, cfg.LogLevel, cfg.LogFormat)
	logger.Info("starting", "config", cfg.Redacted())
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()
	srv, err := a.listen()
	if err != nil {
		return err
	}
	return a.run(ctx, env, srv)
}
