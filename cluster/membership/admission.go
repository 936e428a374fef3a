package membership

import (
	"context"
	"fmt"

	"shoplist/protocol"
)

// Admit admits storage server id to the proxies' backend with the CURVE
// public key key (Z85), replacing the key it had. It returns once the
// change is committed; a removed server (placement.ErrRemoved) and a key
// admitted for another server (ErrKeyInUse) are refused.
func (n *Node) Admit(ctx context.Context, id, key string) error {
	a := Admitted{ID: id, Key: key}
	if err := a.Check(); err != nil {
		return fmt.Errorf("%w: admit: %w", ErrMalformed, err)
	}
	return n.propose(ctx, admitCommand(a))
}

// Revoke withdraws server id's admission: the proxies refuse its
// connections and its messages from then on. ErrNotAdmitted if it has
// none. The server stays a ring member: remove it too to have its lists
// placed elsewhere at once.
func (n *Node) Revoke(ctx context.Context, id string) error {
	if err := protocol.CheckServerID(id); err != nil {
		return fmt.Errorf("%w: %w", ErrNotAdmitted, err)
	}
	return n.propose(ctx, revokeCommand(id))
}

// logAdmission logs an admission or revocation this node committed as the
// leader, so that the leader's log tells every change of who may connect.
func (n *Node) logAdmission(cmd []byte) {
	c, err := decodeCommand(cmd)
	if err != nil {
		return
	}
	switch c.op {
	case opAdmit:
		n.log.Info("server admitted to the backend", "server", c.id, "key", c.key)
	case opRevoke:
		n.log.Info("server's admission revoked: its connections are refused", "server", c.id)
	}
}
