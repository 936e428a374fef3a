package syncer

import (
	"syscall"

	zmq "github.com/pebbe/zmq4"
)

// The SUB socket reconnects on its own when the proxy restarts quickly,
// without the DEALER noticing (its Hellos are answered by the new proxy), and
// the PUB drops every update published while the SUB was away. So the loop
// watches the SUB's connection events (internal/zmonitor: an inproc PAIR
// that the loop owns like its other sockets) and pulls every
// list again after each reconnection: a missed update is caught at once
// instead of at the next periodic re-pull.

// onSubEvents reads the SUB's pending connection events. After the first
// connection, every new one means updates may have been missed: every list
// is pulled again.
func (l *loop) onSubEvents() {
	for range recvBatch {
		if l.subMon == nil {
			return
		}
		ev, addr, _, err := l.subMon.RecvEvent(zmq.DONTWAIT)
		if err != nil {
			if zmq.AsErrno(err) != zmq.Errno(syscall.EAGAIN) {
				l.log.Warn("reading the SUB's events failed", "err", err)
			}
			return
		}
		switch ev {
		case zmq.EVENT_DISCONNECTED:
			l.log.Debug("live updates disconnected", "pub", addr)
		case zmq.EVENT_CONNECTED:
			l.subConnects++
			if l.subConnects == 1 {
				l.log.Debug("live updates connected", "pub", addr)
				continue // the first connection: going online pulls everything
			}
			l.log.Info("live updates reconnected; pulling every list for what was missed", "pub", addr)
			for _, ls := range l.lists {
				ls.needPull = true
			}
		}
	}
}
