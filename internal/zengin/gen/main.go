// Command gen turns the npm package zengin-code (its tarball, or its data
// file) into the bank directory that ships with kinko
// (internal/zengin/data/zengin-banks.json.gz). The same package gives the
// same bytes. gen/update.sh fetches the package and runs it.
//
//	go run ./internal/zengin/gen -o internal/zengin/data/zengin-banks.json.gz zengin-code-VERSION.tgz
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"kinko/internal/zengin"
)

func main() {
	out := flag.String("o", "data/zengin-banks.json.gz", "the file to write")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gen -o OUT zengin-code-VERSION.tgz")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := zengin.LoadDirectory(f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: %d banks from %s, %d bytes\n", out, d.Len(), d.Source(), buf.Len())
	return nil
}
