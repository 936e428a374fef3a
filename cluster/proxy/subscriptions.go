package proxy

import (
	"time"

	zmq "github.com/pebbe/zmq4"
)

// DefaultMaxSubscriptions bounds the live-update topics one client key may
// have the PUB apply: far more lists than a person keeps, far fewer than
// would let one client grow the PUB's subscription table without bound.
const DefaultMaxSubscriptions = 10_000

// maxTopicsTotal bounds the topics the table holds over every key (16
// bytes each and a map entry: some 100 MB at most), beyond which no new
// topic is applied for anyone until keys expire.
const maxTopicsTotal = 1_000_000

// subscriptionIdle is how long a client key's topics are remembered after
// its last subscription message. The PUB forgets a connection's topics
// when the connection ends, but tells the loop so without the key (libzmq
// sends those unsubscriptions with no metadata); forgetting a quiet key's
// topics keeps the table bounded, and a client that reconnects
// subscribes again, which counts afresh.
const subscriptionIdle = time.Hour

// subscriptions decides which subscriptions the PUB applies. The PUB is
// an XPUB in manual mode: each subscription a SUB sends arrives here, with
// the CURVE key of its connection, and takes effect only if the loop
// applies it (to that connection: libzmq applies a subscription to the
// connection the last one read came from). A key may hold at most max
// distinct topics; beyond that its new topics are not applied, and the
// client learns of those lists' changes by its periodic re-pull only. The
// table belongs to the loop.
type subscriptions struct {
	max     int                   // topics per key
	byKey   map[string]*keyTopics // by client key
	total   int                   // topics over every key
	refused uint64                // subscriptions not applied, for Status
}

// keyTopics are the topics applied for one client key.
type keyTopics struct {
	topics map[string]struct{}
	last   time.Time // the key's last subscription message
}

// onMessage handles one message the XPUB delivered, [0|1, topic...],
// from a connection with client key key ("" for the unsubscriptions
// libzmq makes when a connection ends), and applies it to s. It returns
// false for a subscription refused by the cap.
func (t *subscriptions) onMessage(s *zmq.Socket, msg []byte, key string, now time.Time) (applied bool, err error) {
	if len(msg) == 0 || msg[0] > 1 {
		return false, nil // not a subscription message
	}
	topic := string(msg[1:])
	if key == "" {
		return false, nil // a connection ended: libzmq has dropped its topics
	}
	if t.byKey == nil {
		t.byKey = map[string]*keyTopics{}
	}
	k := t.byKey[key]
	if k == nil {
		k = &keyTopics{topics: map[string]struct{}{}}
		t.byKey[key] = k
	}
	k.last = now
	_, held := k.topics[topic]
	if msg[0] == 0 {
		if held {
			delete(k.topics, topic)
			t.total--
		}
		return true, s.SetUnsubscribe(topic)
	}
	if !held {
		if len(k.topics) >= t.max || t.total >= maxTopicsTotal {
			t.refused++
			return false, nil
		}
		k.topics[topic] = struct{}{}
		t.total++
	}
	return true, s.SetSubscribe(topic)
}

// drainSubscriptions handles the subscription messages the XPUB holds.
func (l *loop) drainSubscriptions() {
	for range recvBatch {
		msg, props, err := l.sock.pub.RecvBytesWithMetadata(zmq.DONTWAIT, userIDProperty)
		if err != nil {
			if !isAgain(err) {
				l.log.Warn("receive failed", "err", err)
			}
			return
		}
		key := props[userIDProperty]
		if l.cfg.InsecureClients {
			key = "-" // one table for every client: nothing names them
		}
		applied, err := l.subs.onMessage(l.sock.pub, msg, key, l.now)
		switch {
		case err != nil:
			l.log.Warn("subscription not applied", "err", err)
		case !applied && key != "" && len(msg) > 0 && msg[0] == 1:
			l.bad.warn(l.log, l.now, "subscription refused: the client holds the most topics allowed", "subs:"+key,
				"client_key", key, "max", l.subs.max)
		}
	}
}

// expire forgets the topics of keys silent for subscriptionIdle.
func (t *subscriptions) expire(now time.Time) {
	for key, k := range t.byKey {
		if now.Sub(k.last) >= subscriptionIdle {
			t.total -= len(k.topics)
			delete(t.byKey, key)
		}
	}
}
