// Package cli is kinko's command line: one file per subcommand, each of which
// parses its flags and wires the packages together. It holds no rules.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Env is what a subcommand may use of its surroundings.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Ready, when set, is called by serve and demo once the listeners are
	// open (tests use it to learn the addresses).
	Ready func(portalAddr, certPortalAddr string)
	// Reload receives a value each time serve is asked to reload its
	// certificate and config (SIGHUP); nil: never.
	Reload <-chan os.Signal
}

const usage = `kinko: internet banking for organizations, with certificate login.

Usage:
  kinko demo     [--data DIR] [--db DSN] [--portal-addr ADDR] [--cert-addr ADDR]
                 the trial version (体験版): a demo bank with seeded organizations
  kinko init     --data DIR --root-dir DIR [--name BANK] [--server-name NAME]...
                 create the bank's certificate authority and database
  kinko ca       server-cert|issuing|operator --data DIR --root-dir DIR [flags]
                 the root CA's operations, where its key lives (offline)
  kinko serve    --config FILE
                 run the portal and the certificate portal
  kinko operator --data DIR|--db DSN [--operator NAME] [--bank-name NAME] [--json] <noun> <verb> [flags]
                 the bank's operator commands (org, cert, user, account, limit, interbank,
                 request, staff); what changes a customer's security or money is filed
                 as a written request that a second operator approves
  kinko cert     enroll --portal URL --ca FILE --login-id ID --out PREFIX
                 make a key, request a certificate, save it (the user's side)
  kinko migrate  --data DIR|--db DSN
                 apply database migrations
  kinko audit    verify|list|link --data DIR|--db DSN [flags]
                 check the tamper-evident audit log, list its events, link new ones
  kinko ledger   verify --data DIR|--db DSN
                 check that every balance equals the sum of its postings
  kinko backup   --data DIR|--config FILE --out DIR
                 copy a running SQLite installation (database, keys, certificates)

Run "kinko <command> --help" for a command's flags.
`

// Main runs kinko with args and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	// serve reloads on SIGHUP; every other command keeps its default
	// (the end of the process), as a command run in a closed terminal should.
	if len(args) > 0 && args[0] == "serve" {
		reload := make(chan os.Signal, 1)
		signal.Notify(reload, syscall.SIGHUP)
		defer signal.Stop(reload)
		env.Reload = reload
	}
	return Run(ctx, args, env)
}

// Run runs one subcommand until it ends or ctx is done.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	cmds := map[string]func(context.Context, []string, Env) error{
		"demo":     runDemo,
		"init":     runInit,
		"ca":       runCA,
		"serve":    runServe,
		"operator": runOperator,
		"cert":     runCert,
		"migrate":  runMigrate,
		"audit":    runAudit,
		"ledger":   runLedger,
		"backup":   runBackup,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
			fmt.Fprint(env.Stdout, usage)
			return 0
		}
		fmt.Fprintf(env.Stderr, "kinko: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], env)
	if err != nil && !errors.Is(err, flag.ErrHelp) && wantsJSON(args[1:]) {
		// --json: the error too is JSON, on stderr.
		enc := json.NewEncoder(env.Stderr)
		_ = enc.Encode(map[string]any{"error": map[string]string{"code": errorCode(err), "message": err.Error()}})
		if errors.Is(err, errUsage) || isFlagError(err) {
			return 2
		}
		return 1
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage), isFlagError(err):
		fmt.Fprintf(env.Stderr, "kinko %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "kinko %s: %v\n", args[0], err)
		return 1
	}
}

var errUsage = errors.New("usage")

// isFlagError reports whether err is the flag package's complaint about the
// command line (it has no error type of its own): bad usage, like errUsage.
func isFlagError(err error) bool {
	for _, p := range []string{"flag provided but not defined", "flag needs an argument", "bad flag syntax", "invalid value", "invalid boolean value", "invalid boolean flag"} {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("kinko "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// newLogger returns the process's logger.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	return newLevelLogger(w, logLevel(level), format)
}

// logLevel returns the level that a config's log_level names.
func logLevel(name string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(name))
	return l
}

// newLevelLogger returns the process's logger at level, which may change
// while it runs (a *slog.LevelVar).
func newLevelLogger(w io.Writer, level slog.Leveler, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
