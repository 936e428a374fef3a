package proxy

import (
	"bytes"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/cluster/antientropy"
	"shoplist/crdt"
	"shoplist/protocol"
)

// aeInterval is the anti-entropy period of these tests: short, so a full
// pass over the ring's ranges takes a fraction of a second.
const aeInterval = 5 * time.Millisecond

// holdAll gives every replica a copy of the states.
func holdAll(reps []*replica, states map[uuid.UUID][]byte) {
	for _, r := range reps {
		maps.Copy(r.lists, states)
	}
}

// totals sums what the replicas counted.
func totals(reps []*replica) (got map[protocol.Type]int, gotBytes, sentBytes int) {
	got = map[protocol.Type]int{}
	for _, r := range reps {
		for t, n := range r.got {
			got[t] += n
		}
		gotBytes += r.gotBytes
		sentBytes += r.sentByte
	}
	return got, gotBytes, sentBytes
}

func TestAntiEntropyRepairsAListMissingOnAReplica(t *testing.T) {
	p, lead := startAEProxy(t, aeInterval, time.Second)
	reps := joinReplicas(t, p, 3)
	holdAll(reps, newStates(t, 50)) // in sync: never fetched
	_, missing := sampleList(t, "milk", "eggs")
	l, _ := crdt.Decode(missing)
	reps[0].lists[l.ID()] = missing
	reps[1].lists[l.ID()] = missing

	lead.leader.Store(true)
	pump(t, reps, "the list repaired on s3", func() bool {
		return bytes.Equal(reps[2].lists[l.ID()], missing) && aeStatsOf(t, p).ListsRepaired == 1
	}, nil)
	for _, r := range reps {
		for id := range r.fetched {
			if id != l.ID() {
				t.Errorf("%s was asked for list %s, which all replicas hold alike", r.id, id)
			}
		}
	}
	if reps[0].got[protocol.TypeStore]+reps[1].got[protocol.TypeStore] != 0 {
		t.Errorf("Stores sent to replicas that held the list: %d, %d", reps[0].got[protocol.TypeStore], reps[1].got[protocol.TypeStore])
	}
	if reps[2].stored[l.ID()] != 1 {
		t.Errorf("s3 got %d Stores of the list, want 1", reps[2].stored[l.ID()])
	}
}

func TestAntiEntropyStoresTheMergeOfDivergedReplicasOnAll(t *testing.T) {
	p, lead := startAEProxy(t, aeInterval, time.Second)
	reps := joinReplicas(t, p, 3)
	// Two devices edited the same list concurrently; each replica saw one
	// edit, the third neither.
	base, baseEnc := sampleList(t, "bread")
	a, b := base.Clone(), base.Clone()
	if err := a.Add(crdt.NewClock(uuid.New()), "jam", 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(crdt.NewClock(uuid.New()), "tea", 2); err != nil {
		t.Fatal(err)
	}
	want := a.Clone()
	if err := want.Merge(b); err != nil {
		t.Fatal(err)
	}
	id := base.ID()
	reps[0].lists[id], reps[1].lists[id], reps[2].lists[id] = a.Encode(), b.Encode(), baseEnc
	holdAll(reps, newStates(t, 50))

	lead.leader.Store(true)
	pump(t, reps, "every replica holding the merge", func() bool {
		for _, r := range reps {
			if !bytes.Equal(r.lists[id], want.Encode()) {
				return false
			}
		}
		return aeStatsOf(t, p).ListsRepaired == 1
	}, nil)
	for _, r := range reps {
		if r.stored[id] != 1 {
			t.Errorf("%s got %d Stores of the list, want 1", r.id, r.stored[id])
		}
	}
}

func TestAntiEntropyInSyncSendsOnlyDigests(t *testing.T) {
	p, lead := startAEProxy(t, aeInterval, time.Second)
	reps := joinReplicas(t, p, 3)
	holdAll(reps, newStates(t, 300))
	ranges := aeRanges(p)

	lead.leader.Store(true)
	var st antientropy.Stats
	pump(t, reps, "a full pass, every byte counted", func() bool {
		st = aeStatsOf(t, p)
		_, gotBytes, sentBytes := totals(reps)
		return st.RangesInSync >= uint64(2*ranges) &&
			st.BytesSent == uint64(gotBytes) && st.BytesReceived == uint64(sentBytes)
	}, nil)
	got, _, _ := totals(reps)
	if got[protocol.TypeFetch]+got[protocol.TypeStore] != 0 {
		t.Errorf("replicas in sync got %d Fetches and %d Stores", got[protocol.TypeFetch], got[protocol.TypeStore])
	}
	for _, r := range reps {
		if r.wants != 0 {
			t.Errorf("%s was asked %d times for entries", r.id, r.wants)
		}
	}
	if st.RangesCompared != st.RangesInSync || st.ListsRepaired != 0 || st.BytesSent == 0 {
		t.Errorf("stats %+v, want every compared range in sync, nothing repaired, bytes counted", st)
	}
	// Rounds that were in flight when the counters were read are not yet
	// counted, hence digests >= 3 × rounds.
	if d := uint64(got[protocol.TypeDigest]); d < 3*st.Rounds || d > 3*(st.Rounds+1) {
		t.Errorf("%d digests for %d rounds of 3 owners", d, st.Rounds)
	}
	perRound := float64(st.BytesSent+st.BytesReceived) / float64(got[protocol.TypeDigest]/3)
	t.Logf("%d rounds in sync over %d ranges: %.0f bytes per round (%d sent, %d received)",
		st.Rounds, ranges, perRound, st.BytesSent, st.BytesReceived)
	if perRound > 3*(64+antientropy.Buckets*20) {
		t.Errorf("%.0f bytes per round in sync, want at most 3 × (64 + %d × 20)", perRound, antientropy.Buckets)
	}
}

func TestAntiEntropyDoesNotRunOnAFollower(t *testing.T) {
	p, lead := startAEProxy(t, aeInterval, time.Second)
	reps := joinReplicas(t, p, 3)
	_, enc := sampleList(t, "milk")
	l, _ := crdt.Decode(enc)
	reps[0].lists[l.ID()] = enc // differs: a leader would repair it

	// Forty intervals pass on a follower: nothing is compared.
	until := time.Now().Add(40 * aeInterval)
	serve(t, reps, nil, func() bool { return time.Now().After(until) })
	if got, _, _ := totals(reps); len(got) != 0 {
		t.Fatalf("a follower sent anti-entropy requests: %v", got)
	}
	if st := aeStatsOf(t, p); st != (antientropy.Stats{}) {
		t.Fatalf("a follower counted rounds: %+v", st)
	}
	// The same proxy as leader repairs it, so the silence above was not
	// for want of work.
	lead.leader.Store(true)
	pump(t, reps, "the list repaired once leading", func() bool {
		return bytes.Equal(reps[1].lists[l.ID()], enc) && bytes.Equal(reps[2].lists[l.ID()], enc)
	}, nil)
}

func TestAntiEntropyRoundsOutliveAServerThatNeverAnswers(t *testing.T) {
	const timeout = 100 * time.Millisecond
	p, lead := startAEProxy(t, aeInterval, timeout)
	reps := joinReplicas(t, p, 3)
	_, enc := sampleList(t, "milk")
	l, _ := crdt.Decode(enc)
	reps[0].lists[l.ID()] = enc
	reps[2].mute = true // heartbeats, but answers nothing

	lead.leader.Store(true)
	var st antientropy.Stats
	pump(t, reps, "three rounds ended by their deadline", func() bool {
		st = aeStatsOf(t, p)
		return st.Rounds >= 3
	}, nil)
	// Every range has all three servers as owners: none can be compared.
	if st.RangesCompared != 0 || st.LastRound < timeout {
		t.Fatalf("stats %+v: want no range compared, rounds lasting the %v deadline", st, timeout)
	}
	if reps[2].got[protocol.TypeDigest] < 3 {
		t.Fatalf("the mute server got %d digests, want one per round", reps[2].got[protocol.TypeDigest])
	}
	// Once it answers, rounds complete and the list converges.
	reps[2].mute = false
	pump(t, reps, "the list repaired after the server recovers", func() bool {
		return bytes.Equal(reps[1].lists[l.ID()], enc) && bytes.Equal(reps[2].lists[l.ID()], enc)
	}, nil)
}

func TestAntiEntropyRoundEndsAtOnceOnAnErrorReply(t *testing.T) {
	p, lead := startAEProxy(t, aeInterval, time.Hour) // only replies end a round
	reps := joinReplicas(t, p, 3)
	reps[1].mute = true
	lead.leader.Store(true)
	pump(t, reps, "a digest for the refusing server", func() bool { return reps[1].got[protocol.TypeDigest] > 0 }, nil)
	// The mute replica did not answer the digest, the round's only one to
	// it (no other round starts while this one waits for its answer).
	digest := reps[1].lastID[protocol.TypeDigest]
	reps[1].send(protocol.NewError(digest, protocol.CodeStaleEpoch, "the ring moved on"))
	pump(t, reps, "the round ended by the refusal", func() bool { return aeStatsOf(t, p).Rounds >= 1 }, nil)
}
