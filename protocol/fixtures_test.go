package protocol

import (
	"testing"

	"github.com/google/uuid"
)

// Fixed values, so encodings are reproducible.
var (
	listA = uuid.MustParse("6f1c0e2a-9b3d-4c5e-8f70-112233445566")
	listB = uuid.MustParse("0a0b0c0d-0e0f-4a1b-9c2d-3e4f50617283")
	// listBody stands for an encoded crdt list: the protocol never reads it.
	listBody  = []byte{0x95, 0x01, 0xc4, 0x02, 0xab, 0xcd}
	epochRing = EpochBody{Epoch: 9, N: 3, VNodes: 3, Members: []Member{
		{ID: "s1", State: MemberUp}, {ID: "s2", State: MemberDown}, {ID: "s3", State: MemberJoining},
	}}
	welcome = WelcomeBody{
		PubEndpoint: "tcp://127.0.0.1:5556",
		Endpoints:   []string{"tcp://127.0.0.1:5555", "tcp://127.0.0.1:6555"},
		Now:         1_700_000_000_000,
	}
)

type sample struct {
	name string
	m    Message
}

// samples returns one valid message of every type (and a few variants).
func samples(t testing.TB) []sample {
	t.Helper()
	must := func(m Message, err error) Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	return []sample{
		{"Hello", NewHello(1)},
		{"Welcome", must(NewWelcome(1, 9, welcome))},
		{"Push", NewPush(7, listA, listBody)},
		{"Pull", NewPull(8, listA)},
		{"PullKnown", NewPullKnown(8, listA, 0xfeed)},
		{"Unchanged", NewUnchanged(8, listA)},
		{"PullReply", NewPullReply(8, listA, listBody)},
		{"PullReplyNotFound", NewPullReply(8, listA, nil)},
		{"Subscribe", must(NewSubscribe(300, listA, listB))},
		{"Unsubscribe", must(NewUnsubscribe(301, listB))},
		{"LiveUpdate", NewLiveUpdate(listA, listBody)},
		{"OK", NewOK(7, listA)},
		{"OKNoList", NewOK(1<<40, uuid.Nil)},
		{"Error", NewError(7, CodeQuorumFailed, "1 of 2 replicas")},
		{"ErrorUnaddressed", NewError(0, CodeUnsupportedVersion, "")},
		{"ServerHello", must(NewServerHello(1, 8, "s1"))},
		{"ServerWelcome", NewServerWelcome(1, 9)},
		{"Heartbeat", NewHeartbeat(9)},
		{"Store", NewStore(70000, 9, listA, listBody)},
		{"StoreReply", NewStoreReply(70000, listA)},
		{"StoreReplyCreated", NewStoreCreated(70000, listA)},
		{"StoreExisting", NewStoreExisting(70003, 9, listA, listBody)},
		{"Fetch", NewFetch(70001, 9, listA)},
		{"FetchKnown", NewFetchKnown(70001, 9, listA, 0xfeed)},
		{"FetchReply", NewFetchReply(70001, listA, listBody)},
		{"FetchReplyNotFound", NewFetchReply(70001, listA, nil)},
		{"HintedStore", must(NewHintedStore(70002, 9, listA, "s2", listBody))},
		{"Handoff", must(NewHandoff(5, 9, listA, "s2", listBody))},
		{"EpochAnnounce", must(NewEpochAnnounce(0, epochRing))},
		{"EpochAnnounceAcked", must(NewEpochAnnounce(12, EpochBody{Epoch: 1 << 33, N: 1, VNodes: 1024}))},
		{"ServerReport", must(NewServerReport(9, ServerReportBody{Lists: 300, Hints: 2, Moving: 1, Healed: 4, Damaged: 1, Reset: true}))},
		{"Digest", must(NewDigest(13, 9, DigestBody{Start: 1, End: 1 << 63, Buckets: 64, Want: []int{0, 63}}))},
		{"Batch", batchOf(9, NewStore(70000, 9, listA, listBody), NewFetch(70001, 9, listA))},
		{"DigestReply", must(NewDigestReply(13, 9, DigestReplyBody{
			Buckets: []BucketSum{{Count: 1, Sum: 0xfeed}, {}},
			Entries: []DigestEntry{{List: listA, Hash: 0xfeed}},
		}))},
	}
}

// batchOf returns msgs as one Batch stamped with epoch.
func batchOf(epoch uint64, msgs ...Message) Message {
	var b Batcher
	for _, m := range msgs {
		b.Add(m)
	}
	m, _ := b.Take(epoch)
	return m
}
