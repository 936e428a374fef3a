package proxy

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

// The cap on new lists. A list costs the cluster storage on N servers for
// as long as it exists, and anyone may create lists, so one client could
// fill the cluster with them. Each client may create at most
// Config.NewListsPerMinute lists the cluster did not hold before: a token
// bucket per client, that many tokens, refilled at that many a minute.
//
// "New" is what the replicas say: a server that held nothing of a list
// before a Store acknowledges it with created (protocol StoreReplyBody),
// and a push created a list when every replica that acknowledged it says
// so (one that held the list already means the cluster had it). The proxy
// cannot know before it stores, so a push starts holding a token (begin):
// if the client has one to spare, the push is stored as usual and the
// token is spent only if the push created the list (end); if not, the
// push is sent as StoreExisting, which a replica stores only into a list
// it holds, and a push that no quorum of replicas holds is refused with
// NewListLimit. So pushes to lists the cluster holds always go through,
// whatever the client created, and at most the cap's worth of pushes that
// may create a list are in flight for a client at once.
//
// The key is the install's CURVE key (newListOwner), so a client that
// reconnects keeps its bucket; anyone may make new keys, though, so the
// cap bounds one install, not one person.

// newListLimit is the buckets of the clients that used theirs lately. The
// loop owns it.
type newListLimit struct {
	perMinute int                       // tokens a minute and at most; 0: no cap
	buckets   map[string]*newListBucket // by client key; a full idle bucket is dropped
	refused   uint64                    // pushes refused past the cap
}

// newListBucket is one client's tokens.
type newListBucket struct {
	tokens   float64   // creations left, as of at
	at       time.Time // when tokens was last refilled
	inFlight int       // pushes in progress holding a token
}

// newNewListLimit returns the cap; perMinute < 0 means none.
func newNewListLimit(perMinute int) *newListLimit {
	return &newListLimit{perMinute: max(perMinute, 0), buckets: map[string]*newListBucket{}}
}

// bucket returns key's bucket refilled to now, made full if new.
func (n *newListLimit) bucket(key string, now time.Time) *newListBucket {
	b := n.buckets[key]
	if b == nil {
		b = &newListBucket{tokens: float64(n.perMinute), at: now}
		n.buckets[key] = b
	}
	if now.After(b.at) {
		b.tokens = min(float64(n.perMinute), b.tokens+now.Sub(b.at).Minutes()*float64(n.perMinute))
		b.at = now
	}
	return b
}

// begin reports whether a push by client key may create a list; if so it
// holds a token until end.
func (n *newListLimit) begin(key string, now time.Time) bool {
	if n.perMinute == 0 {
		return true
	}
	b := n.bucket(key, now)
	if b.tokens-float64(b.inFlight) < 1 {
		return false
	}
	b.inFlight++
	return true
}

// end ends a push that held a token: created spends it.
func (n *newListLimit) end(key string, created bool, now time.Time) {
	if n.perMinute == 0 {
		return
	}
	b := n.bucket(key, now)
	b.inFlight--
	if created {
		b.tokens--
	}
}

// refusal is the Error for a push refused past client key's cap.
func (n *newListLimit) refusal(reqID uint64, list uuid.UUID, key string, now time.Time) protocol.Message {
	n.refused++
	b := n.bucket(key, now)
	wait := time.Duration((float64(b.inFlight) + 1 - b.tokens) / float64(n.perMinute) * float64(time.Minute))
	return protocol.NewError(reqID, protocol.CodeNewListLimit, fmt.Sprintf(
		"push of list %s refused: the cluster does not hold that list, and this client may create at most %d new lists a minute; "+
			"pushes to lists the cluster holds still go through; retry in %v", list, n.perMinute, max(wait, time.Second).Round(time.Second)))
}

// sweep drops the buckets that are full again and hold no token: they are
// what a new bucket would be.
func (n *newListLimit) sweep(now time.Time) {
	for key, b := range n.buckets {
		if b.inFlight == 0 && n.bucket(key, now).tokens >= float64(n.perMinute) {
			delete(n.buckets, key)
		}
	}
}
