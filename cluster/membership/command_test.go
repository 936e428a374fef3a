package membership

import (
	"bytes"
	"testing"
)

func TestCommandEncodingRoundTrips(t *testing.T) {
	cases := []struct {
		cmd  command
		want []byte
	}{
		{configureCommand(3, 3), []byte{0x94, 0x01, 0x01, 0x03, 0x03}},
		{configureCommand(16, 1024), []byte{0x94, 0x01, 0x01, 0x10, 0xcd, 0x04, 0x00}},
		{joinCommand("s1"), []byte{0x93, 0x01, 0x02, 0xa2, 's', '1'}},
		{leaveCommand("s1"), []byte{0x93, 0x01, 0x03, 0xa2, 's', '1'}},
		{removeCommand("s1"), []byte{0x93, 0x01, 0x04, 0xa2, 's', '1'}},
		{proxyCommand(ProxyInfo{ID: "p1", Raft: "h:1", Admin: "h:2", Client: "tcp://h:3"}),
			append([]byte{0x96, 0x01, 0x06, 0xa2, 'p', '1', 0xa3, 'h', ':', '1', 0xa3, 'h', ':', '2', 0xa9}, "tcp://h:3"...)},
		{proxyCommand(ProxyInfo{ID: "p1", Raft: "h:1"}), []byte{0x96, 0x01, 0x06, 0xa2, 'p', '1', 0xa3, 'h', ':', '1', 0xa0, 0xa0}},
	}
	for _, c := range cases {
		got := c.cmd.encode()
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s: encoded %x, want %x", c.cmd.op, got, c.want)
		}
		back, err := decodeCommand(got)
		if err != nil || back != c.cmd {
			t.Errorf("%s: decoded %+v, %v; want %+v", c.cmd.op, back, err, c.cmd)
		}
	}
	// Any width of an unsigned integer is accepted, as msgpack asks.
	wide := []byte{0x93, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xcc, 0x02, 0xd9, 0x02, 's', '1'}
	if c, err := decodeCommand(wide); err != nil || c != joinCommand("s1") {
		t.Errorf("wide forms: %+v, %v", c, err)
	}
}

// FuzzDecodeCommand checks that no input panics the decoder or Apply, that
// what decodes re-encodes to bytes that decode to the same command, and
// that a refused command leaves the state as it was.
func FuzzDecodeCommand(f *testing.F) {
	for _, c := range []command{configureCommand(3, 3), joinCommand("s1"), leaveCommand("s-1.x_y"), removeCommand("s1")} {
		f.Add(c.encode())
	}
	f.Add(importCommand(seedState()).encode())
	f.Add(proxyCommand(ProxyInfo{ID: "p1", Raft: "127.0.0.1:5558", Admin: "127.0.0.1:5559", Client: "tcp://127.0.0.1:5555"}).encode())
	f.Add(proxyCommand(ProxyInfo{ID: "p2", Raft: "h:1"}).encode())
	f.Add([]byte{0x96, 0x01, 0x06, 0xa2, 'p', '1', 0xa3, 'h', ':', '1', 0xa0, 0xa3, 'x', ':', '/'})
	// Fixed keys: the fuzz corpus is the same every run.
	const k1, k2 = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
	f.Add(admitCommand(Admitted{"s1", k2}).encode())
	f.Add(admitCommand(Admitted{"s3", k1}).encode())
	f.Add(admitCommand(Admitted{"s2", k2}).encode())
	f.Add(revokeCommand("s1").encode())
	f.Add([]byte{0x93, 0x02, 0x02, 0xa2, 's', '1'})
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x93, 0x01, 0x02, 0xdb, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCommand(data)
		st := newState()
		st.n, st.vnodes, st.epoch = 3, 3, 1
		st.members["s1"] = Active
		st.removed["s2"] = true
		st.proxies["p1"] = ProxyInfo{ID: "p1", Raft: "h:1", Admin: "h:2", Client: "tcp://h:3"}
		st.admitted["s1"] = k1
		before := encodeState(st)
		if err != nil {
			return
		}
		again, err := decodeCommand(c.encode())
		if err != nil || again != c {
			t.Fatalf("%x decoded to %+v, whose encoding %x decodes to %+v, %v", data, c, c.encode(), again, err)
		}
		changed, err := st.apply(c)
		after := encodeState(st)
		if err != nil && !bytes.Equal(before, after) {
			t.Fatalf("refused %+v (%v) changed the state", c, err)
		}
		if !changed && !bytes.Equal(before, after) {
			t.Fatalf("%+v reported no change but changed the state", c)
		}
		switch {
		case changed && (c.op == opProxy || c.op == opAdmit || c.op == opRevoke) && st.epoch != 1:
			t.Fatalf("%+v: a proxy record or an admission changed the epoch to %d", c, st.epoch)
		case changed && c.op != opProxy && c.op != opAdmit && c.op != opRevoke && st.epoch != 2:
			t.Fatalf("%+v: epoch %d after one change from 1", c, st.epoch)
		}
		if back, err := decodeState(after); err != nil || !bytes.Equal(encodeState(back), after) {
			t.Fatalf("the state after %+v does not round-trip as a snapshot: %v", c, err)
		}
	})
}
