package server

import (
	zmq "github.com/pebbe/zmq4"
)

// handshakeEvents are the events a link's monitor (internal/zmonitor)
// reports: a proxy refusing the server's key (ZAP status 400: not
// admitted), and a handshake failing otherwise (most often a proxy that
// does not hold the key the server was given for it). Without it a refused
// server would only see its proxy stay silent.
const handshakeEvents = zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL

// monitored returns the link whose monitor is sock.
func (l *loop) monitored(sock *zmq.Socket) *link {
	for _, lk := range l.links {
		if lk.mon != nil && lk.mon == sock {
			return lk
		}
	}
	return nil
}

// readMonitor logs the handshake failures lk's monitor reports, at most
// once per kind and interval (libzmq reconnects, and fails again, every
// 100ms).
func (l *loop) readMonitor(lk *link) {
	for range recvBatch {
		ev, _, status, err := lk.mon.RecvEvent(zmq.DONTWAIT)
		if err != nil {
			return
		}
		l.s.refusals.Add(1)
		if ev == zmq.EVENT_HANDSHAKE_FAILED_AUTH {
			l.s.log.error("refused:"+lk.endpoint, "server: the proxy refuses this server's key: it is not admitted there. "+
				"An operator admits it with: proxy admit --id ID --key @KEY_FILE",
				"proxy", lk.endpoint, "status", status, "id", l.s.id, "key", l.s.key.Public, "key_file", PublicKeyFile(l.s.cfg.Dir))
			continue
		}
		l.s.log.error("handshake:"+lk.endpoint, "server: the CURVE handshake with the proxy failed: "+
			"check that the key in ENDPOINT#KEY is that proxy's (its ready line says backend=ENDPOINT#KEY)",
			"proxy", lk.endpoint, "event", ev.String(), "key", lk.key)
	}
}
