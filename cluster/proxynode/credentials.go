package proxynode

import (
	"errors"
	"fmt"
	"log/slog"

	"shoplist/cluster/groupca"
)

// errNoCredentials means a joining proxy was given no credentials of the
// group.
var errNoCredentials = errors.New("proxynode: joining a group needs credentials it issued")

// credentialsDir returns where the proxy keeps its credentials:
// --credentials, else DATA/credentials; "" without either.
func credentialsDir(o Options) string {
	if o.Credentials != "" || o.Data == "" {
		return o.Credentials
	}
	return groupca.DirIn(o.Data)
}

// nodeCredentials returns this proxy's node credentials, which its Raft
// transport and admin API present and check peers against. A proxy that
// starts a group of its own (no o.Join) and finds none founds the group's:
// a new CA, its own credentials and an operator's (groupca.Create); with
// nowhere to keep them they live in memory, and no operator can reach the
// admin API. A joining proxy must be given credentials the group issued.
func nodeCredentials(o Options, log *slog.Logger) (*groupca.Credentials, error) {
	dir := credentialsDir(o)
	joining := len(o.Join) > 0
	if dir == "" {
		if joining {
			return nil, fmt.Errorf("%w: give --credentials DIR (written by `proxy issue` on a proxy of the group)", errNoCredentials)
		}
		ca, err := groupca.NewCA()
		if err != nil {
			return nil, err
		}
		log.Warn("no --data or --credentials: the group's credentials are in memory only, and no operator can use the admin API", "group", ca.Name())
		return ca.Issue(groupca.RoleNode)
	}
	creds, err := groupca.Load(dir, groupca.RoleNode)
	switch {
	case err == nil:
		return creds, nil
	case !errors.Is(err, groupca.ErrMissing):
		return nil, fmt.Errorf("proxynode: this proxy's credentials: %w", err)
	case joining:
		return nil, fmt.Errorf("%w: %w; run `proxy issue --out DIR` on the proxy that founded the group, and start this one with --credentials DIR", errNoCredentials, err)
	}
	if creds, err = groupca.Create(dir); err != nil {
		return nil, fmt.Errorf("proxynode: founding the group's credentials: %w", err)
	}
	log.Info("founded the group's credentials: its CA, this proxy's and an operator's", "dir", dir, "group", creds.Group())
	return creds, nil
}
