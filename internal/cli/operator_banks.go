package cli

import (
	"context"
	"fmt"
	"os"

	"kinko/internal/zengin"
)

// opBanksImport is "kinko operator banks import": the names of banks and
// branches (the zengin-code data set, updated monthly) replaced by a newer
// copy, read from the npm package's tarball or its data file, checked, and
// written into the data directory, where every server of the bank reads it
// at its start and on SIGHUP. Nothing is fetched from a network.
func opBanksImport(ctx context.Context, env Env, of operatorFlags, args []string) error {
	fs := newFlags("operator banks import", env)
	file := fs.String("file", "", "the zengin-code npm package (zengin-code-VERSION.tgz, from npm pack zengin-code) or its data file")
	oc, err := of.parse(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer oc.db.Close()
	if *file == "" {
		return usageErr("--file is required")
	}
	if oc.dataDir == "" {
		return usageErr("--data DIR is required: the names are a file of the data directory")
	}
	st, err := oc.clerk(ctx)
	if err != nil {
		return err
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := zengin.ImportDirectory(oc.dataDir, f)
	if err != nil {
		return fmt.Errorf("%s: %w (the names in use are unchanged)", *file, err)
	}
	if oc.json {
		return oc.printJSON(map[string]any{"source": d.Source(), "banks": d.Len(), "imported_by": st.Name})
	}
	fmt.Fprintf(env.Stdout, "Bank names imported: %s, %d banks. Running servers read them on SIGHUP (kill -HUP), others at their start.\n", d.Source(), d.Len())
	return nil
}
