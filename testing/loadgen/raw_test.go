package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

func TestRawModeMeasuresTheCeiling(t *testing.T) {
	frames := protocol.NewPush(1, uuid.New(), []byte("opaque list bytes")).Frames()
	res, err := RunRaw(context.Background(), RawConfig{Clients: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond, Timeout: 2 * time.Second, Frames: frames})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Hist.Summarize(res.Window)
	if res.Hist.Count() == 0 || s.OpsPerSec <= 0 {
		t.Fatalf("raw mode did no requests: %+v", s)
	}
	if !(0 < s.P50ms && s.P50ms <= s.P95ms && s.P95ms <= s.P99ms) {
		t.Fatalf("percentiles out of order: %+v", s)
	}
	if res.Errors != 0 {
		t.Errorf("%d raw requests timed out", res.Errors)
	}
}
