// Command kinko is internet banking for organizations with certificate
// login. See README.md; every subcommand lives in internal/cli.
package main

import (
	"os"

	"kinko/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
