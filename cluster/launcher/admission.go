package launcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"shoplist/cluster/admin"
	"shoplist/cluster/membership"
	"shoplist/cluster/server"
)

// admitPoll is how often the launcher asks whether every proxy has an
// admission it made.
const admitPoll = 20 * time.Millisecond

// keysLocked returns the admissions servers ms need before they start:
// each one's CURVE key pair, made in its data directory if it has none
// yet (the server reuses it), and its ID. c.mu is held.
func (c *Cluster) keysLocked(ms []*member) ([]membership.Admitted, error) {
	var out []membership.Admitted
	for _, m := range ms {
		key, err := server.LoadOrCreateKey(m.dir)
		if err != nil {
			return nil, fmt.Errorf("cluster: %s's key: %w", ServerName(m.id), err)
		}
		out = append(out, membership.Admitted{ID: m.id, Key: key.Public})
	}
	return out, nil
}

// admit admits every server of as to the proxies' backend, as `proxy
// admit` would (the operator's credentials in proxy 0's directory, the
// admin API of the first running proxy that answers), or with
// Config.Admit, and waits until every running proxy has the admissions:
// a proxy refuses a handshake with a key it does not know of yet, and a
// server whose handshake was refused tries again only after Liveness
// silent intervals. Nothing is admitted with an insecure backend.
func (c *Cluster) admit(ctx context.Context, as []membership.Admitted) error {
	if c.cfg.InsecureBackend || len(as) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ReadyTimeout)
	defer cancel()
	for _, a := range as {
		var err error
		if c.cfg.Admit != nil {
			err = c.cfg.Admit(ctx, a.ID, a.Key)
		} else {
			err = c.admitThroughAdmin(ctx, a)
		}
		if err != nil {
			return fmt.Errorf("cluster: admitting %s: %w", ServerName(a.ID), err)
		}
	}
	c.note(fmt.Sprintf("admitted %d storage servers' keys to the proxies' backend", len(as)))
	if c.cfg.Admit != nil {
		return nil // the test that admits knows when it is done
	}
	return c.waitAdmitted(ctx, as)
}

// admitThroughAdmin admits a through the admin API of the first running
// proxy that answers.
func (c *Cluster) admitThroughAdmin(ctx context.Context, a membership.Admitted) error {
	client, err := c.operator()
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range c.Proxies() {
		if !p.Running || p.Paused || p.Admin == "" {
			continue
		}
		_, err := client.Admit(ctx, p.Admin, a.ID, a.Key)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		var remote *admin.RemoteError
		if errors.As(err, &remote) || ctx.Err() != nil {
			break // the group's answer, or no time left
		}
	}
	if len(errs) == 0 {
		return errors.New("no running proxy has an admin API")
	}
	return errors.Join(errs...)
}

// waitAdmitted waits until every running proxy that is not paused lists
// every admission of as.
func (c *Cluster) waitAdmitted(ctx context.Context, as []membership.Admitted) error {
	tick := time.NewTicker(admitPoll)
	defer tick.Stop()
	for {
		sts, err := c.Statuses(ctx)
		if err == nil && allAdmitted(sts, as) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for every proxy to admit the servers: %w (last: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// allAdmitted reports whether every status lists every admission of as.
func allAdmitted(sts map[int]admin.Status, as []membership.Admitted) bool {
	for _, st := range sts {
		for _, a := range as {
			if !slices.Contains(st.Membership.Admitted, a) {
				return false
			}
		}
	}
	return true
}
