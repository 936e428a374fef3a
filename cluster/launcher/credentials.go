package launcher

import (
	"errors"
	"fmt"

	"shoplist/cluster/groupca"
)

// issueCredentials makes sure, before any proxy starts, that every proxy
// but proxy 0 holds node credentials of the group proxy 0 founds. Proxy
// 0's data directory is the launcher's own, so the launcher founds the
// group's credentials there if they are not yet (as proxy 0 would on its
// first start) and issues each other proxy's with the CA, as `proxy
// issue` does. A lone proxy founds its own.
func (c *Cluster) issueCredentials() error {
	if len(c.proxies) < 2 {
		return nil
	}
	founder := groupca.DirIn(c.proxies[0].dir)
	ca, err := groupca.LoadCA(founder)
	if errors.Is(err, groupca.ErrMissing) {
		if _, err = groupca.Create(founder); err != nil {
			return fmt.Errorf("cluster: founding the group's credentials: %w", err)
		}
		c.note("founded the proxies' group credentials in " + founder)
		ca, err = groupca.LoadCA(founder)
	}
	if err != nil {
		return fmt.Errorf("cluster: the group's CA: %w", err)
	}
	for _, p := range c.proxies[1:] {
		dir := groupca.DirIn(p.dir)
		creds, err := groupca.Load(dir, groupca.RoleNode)
		switch {
		case err == nil && creds.Group() == ca.Name():
			continue
		case err == nil:
			return fmt.Errorf("%w: %s holds credentials of %s, not of %s, the group of %s", ErrConfig, dir, creds.Group(), ca.Name(), proxyName)
		case !errors.Is(err, groupca.ErrMissing):
			return fmt.Errorf("cluster: %s's credentials: %w", p.name, err)
		}
		if err := groupca.Issue(founder, dir, groupca.RoleNode); err != nil {
			return fmt.Errorf("cluster: issuing %s's credentials: %w", p.name, err)
		}
		c.note(fmt.Sprintf("issued %s the group's credentials in %s", p.name, dir))
	}
	return nil
}
