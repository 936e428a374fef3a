package server

import (
	"fmt"
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"
)

// monitorSeq numbers the inproc addresses of the links' monitors.
var monitorSeq atomic.Uint64

// handshakeEvents are the events a link's monitor reports: a proxy
// refusing the server's key (ZAP status 400: not admitted), and a
// handshake failing otherwise (most often a proxy that does not hold the
// key the server was given for it).
const handshakeEvents = zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL

// watchHandshakes starts a monitor of sock's handshakes and returns the
// PAIR socket its events come on, which belongs to the loop with sock: it
// polls it and closes it with sock. Without it a refused server would only
// see its proxy stay silent.
func watchHandshakes(sock *zmq.Socket) (*zmq.Socket, error) {
	addr := fmt.Sprintf("inproc://shoplist-server-monitor-%d", monitorSeq.Add(1))
	if err := sock.Monitor(addr, handshakeEvents); err != nil {
		return nil, err
	}
	mon, err := zmq.NewSocket(zmq.PAIR)
	if err != nil {
		return nil, err
	}
	mon.SetLinger(0)
	if err := mon.Connect(addr); err != nil {
		mon.Close()
		return nil, err
	}
	return mon, nil
}

// closeMonitor closes the link's monitor socket, if open.
func (lk *link) closeMonitor() {
	if lk.mon != nil {
		lk.mon.Close()
		lk.mon = nil
	}
}

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
