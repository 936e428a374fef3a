// Package zmonitor watches a ZeroMQ socket's events on an inproc PAIR, and
// stops watching without ever stalling ZeroMQ's I/O thread.
package zmonitor

import (
	"errors"
	"fmt"
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"
)

// seq numbers the monitors' inproc addresses.
var seq atomic.Uint64

// Open starts monitoring sock's events and returns the PAIR they come on,
// which belongs to whoever owns sock: it reads it, and ends both with
// Close. name tells the monitors of one process apart in their addresses.
func Open(sock *zmq.Socket, name string, events zmq.Event) (*zmq.Socket, error) {
	addr := fmt.Sprintf("inproc://shoplist-%s-monitor-%d", name, seq.Add(1))
	if err := sock.Monitor(addr, events); err != nil {
		return nil, fmt.Errorf("monitoring a socket: %w", err)
	}
	mon, err := zmq.NewSocket(zmq.PAIR)
	if err == nil {
		err = mon.SetLinger(0)
		if err == nil {
			err = mon.Connect(addr)
		}
		if err != nil {
			mon.Close()
		}
	}
	if err != nil {
		_ = sock.Monitor("", 0)
		return nil, fmt.Errorf("monitoring a socket: %w", err)
	}
	return mon, nil
}

// Close stops monitoring sock, then closes sock and mon (either may be
// nil).
//
// The order matters. libzmq sends each event to the monitor with a
// blocking send, from the I/O thread that saw it
// (socket_base_t::monitor_event in libzmq 4.3.4), and a socket closed with
// zmq_close goes on failing handshakes and dropping connections until its
// reaper has destroyed it. Were mon closed first, or sock closed while
// still monitored, such an event would find no reader and block the I/O
// thread for good — and with it every socket of the context. Stopping the
// monitor first (zmq_socket_monitor with no address) makes libzmq drop
// later events.
func Close(sock, mon *zmq.Socket) error {
	var errs []error
	if sock != nil {
		if mon != nil {
			errs = append(errs, sock.Monitor("", 0))
		}
		errs = append(errs, sock.Close())
	}
	if mon != nil {
		errs = append(errs, mon.Close())
	}
	return errors.Join(errs...)
}
