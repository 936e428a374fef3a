package proxynode

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"shoplist/cluster/admin"
	"shoplist/cluster/groupca"
)

// IssueMain runs `proxy issue --out DIR [--data DATA | --credentials DIR]
// [--operator]` with args (after "issue"): with the group's CA, kept by
// the proxy that founded the group, it writes into DIR a new proxy's
// credentials (or, with --operator, an operator's) and the CA certificate.
// It returns the exit code: 0, 1 on failure, 2 for bad usage.
func IssueMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy issue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", admin.DefaultData, "data `directory` of the proxy that founded the group: its CA is in DIR/credentials")
	from := fs.String("credentials", "", "`directory` holding the CA, ca.pem and ca-key.pem (default: DATA/credentials)")
	out := fs.String("out", "", "`directory` to write the new credentials into; it must not exist or be empty")
	operator := fs.Bool("operator", false, "issue an operator's credentials (proxy status and remove on another machine) instead of a proxy's")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proxy issue --out DIR [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *out == "" {
		fmt.Fprintln(stderr, "proxy issue: give --out DIR and no arguments")
		fs.Usage()
		return 2
	}
	dir := *from
	if dir == "" {
		dir = groupca.DirIn(*data)
	}
	role := groupca.RoleNode
	if *operator {
		role = groupca.RoleOperator
	}
	if err := groupca.Issue(dir, *out, role); err != nil {
		if errors.Is(err, groupca.ErrMissing) {
			err = fmt.Errorf("%w (only the proxy that founded the group holds the CA's key)", err)
		}
		fmt.Fprintf(stderr, "proxy issue: %v\n", err)
		return 1
	}
	if *operator {
		fmt.Fprintf(stdout, "operator credentials written to %s: give `proxy status` and `proxy remove` --credentials %s\n", *out, *out)
	} else {
		fmt.Fprintf(stdout, "credentials for a new proxy written to %s: copy the directory to its machine and start it with --credentials DIR --join ADMIN_ADDR\n", *out)
	}
	return 0
}
