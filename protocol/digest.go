package protocol

import (
	"fmt"
	"math/bits"

	"github.com/google/uuid"
)

// Anti-entropy digests. A ring range (Start, End] of positions (see
// hashring.Position; Start == End means the whole ring) is cut into Buckets
// equal parts. A server answers a Digest with, for every bucket, how many
// lists it stores there and the sum (mod 2^64) of their hashes
// (crdt.StateHash, 64-bit FNV-1a of the list's canonical encoding); for
// the buckets the Digest names in Want it also lists each stored list's ID
// and hash, so the proxy can tell exactly which lists differ. Sums are order
// independent, so two replicas holding byte-identical lists in a bucket
// report the same count and sum.

// DigestBody is the body of a Digest: [start uint, end uint, buckets uint,
// [want uint ...]]. Want holds bucket indexes, strictly ascending, each
// below Buckets.
type DigestBody struct {
	Start, End uint64
	Buckets    int // 1 to MaxDigestBuckets
	Want       []int
}

func (b DigestBody) check() error {
	if b.Buckets < 1 || b.Buckets > MaxDigestBuckets {
		return fmt.Errorf("%w: %d digest buckets, want 1 to %d", ErrMalformed, b.Buckets, MaxDigestBuckets)
	}
	if len(b.Want) > b.Buckets {
		return fmt.Errorf("%w: %d wanted buckets of %d", ErrTooLarge, len(b.Want), b.Buckets)
	}
	for i, w := range b.Want {
		if w < 0 || w >= b.Buckets || (i > 0 && w <= b.Want[i-1]) {
			return fmt.Errorf("%w: wanted bucket %d out of order or out of range", ErrMalformed, w)
		}
	}
	return nil
}

// Encode returns the body's encoding.
func (b DigestBody) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	out := appendArrayLen(make([]byte, 0, 32+3*len(b.Want)), 4)
	out = appendUint(out, b.Start)
	out = appendUint(out, b.End)
	out = appendUint(out, uint64(b.Buckets))
	out = appendArrayLen(out, len(b.Want))
	for _, w := range b.Want {
		out = appendUint(out, uint64(w))
	}
	return out, nil
}

// DecodeDigestBody decodes a Digest's body. Want is nil when empty.
func DecodeDigestBody(p []byte) (DigestBody, error) {
	r, err := bodyReader("digest body", p, MaxControlBodySize)
	if err != nil {
		return DigestBody{}, err
	}
	var b DigestBody
	r.fixedArray("digest body", 4)
	b.Start = r.uint("range start")
	b.End = r.uint("range end")
	buckets := r.uint("buckets")
	if r.err == nil && (buckets == 0 || buckets > MaxDigestBuckets) {
		r.fail(ErrMalformed, "%d digest buckets, want 1 to %d", buckets, MaxDigestBuckets)
	}
	b.Buckets = int(buckets)
	n := r.listArray("wanted buckets", MaxDigestBuckets)
	for i := 0; i < n && r.err == nil; i++ {
		w := r.uint("wanted bucket")
		if r.err == nil && w >= MaxDigestBuckets {
			r.fail(ErrMalformed, "wanted bucket %d out of range", w)
		}
		b.Want = append(b.Want, int(w))
	}
	if err := finish(&r, "digest body", b.check); err != nil {
		return DigestBody{}, err
	}
	return b, nil
}

// Bucket returns the bucket of the range that holds pos, or false when pos
// is outside (Start, End].
func (b DigestBody) Bucket(pos uint64) (int, bool) {
	return DigestBucket(b.Start, b.End, b.Buckets, pos)
}

// DigestBucket returns which of buckets equal parts of the ring range
// (start, end] holds pos, or false when pos is outside the range. start ==
// end is the whole ring.
func DigestBucket(start, end uint64, buckets int, pos uint64) (int, bool) {
	off := pos - start // 1..width inside the range (mod 2^64)
	width := end - start
	if width != 0 && (off == 0 || off > width) {
		return 0, false
	}
	if buckets <= 1 {
		return 0, true
	}
	// bucket = (off-1) * buckets / width, in 128 bits; width 0 is 2^64.
	hi, lo := bits.Mul64(off-1, uint64(buckets))
	if width == 0 {
		return int(hi), true
	}
	q, _ := bits.Div64(hi, lo, width)
	return int(q), true
}

// BucketSum is one bucket of a DigestReply: how many lists a server stores
// in it and the sum of their hashes (crdt.StateHash).
type BucketSum struct {
	Count uint64
	Sum   uint64
}

// DigestEntry is one stored list of a wanted bucket.
type DigestEntry struct {
	List uuid.UUID
	Hash uint64
}

// DigestReplyBody is the body of a DigestReply: [[[count uint, sum uint]
// ...], [[listID bin16, hash uint] ...], truncated uint]. Buckets has one
// entry per bucket of the Digest; Entries lists the lists of its wanted
// buckets, at most MaxDigestEntries, sorted by list ID; Truncated (1) says
// that more were left out.
type DigestReplyBody struct {
	Buckets   []BucketSum
	Entries   []DigestEntry
	Truncated bool
}

func (b DigestReplyBody) check() error {
	switch {
	case len(b.Buckets) < 1 || len(b.Buckets) > MaxDigestBuckets:
		return fmt.Errorf("%w: %d digest buckets, want 1 to %d", ErrMalformed, len(b.Buckets), MaxDigestBuckets)
	case len(b.Entries) > MaxDigestEntries:
		return fmt.Errorf("%w: %d digest entries, at most %d allowed", ErrTooLarge, len(b.Entries), MaxDigestEntries)
	}
	for i, e := range b.Entries {
		if why := listIDProblem(e.List); why != "" {
			return fmt.Errorf("%w: digest entry %s", ErrInvalidID, why)
		}
		if i > 0 && string(e.List[:]) <= string(b.Entries[i-1].List[:]) {
			return fmt.Errorf("%w: digest entry %s out of order or repeated", ErrMalformed, e.List)
		}
	}
	return nil
}

// Encode returns the body's encoding. Entries must already be sorted.
func (b DigestReplyBody) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	out := appendArrayLen(make([]byte, 0, 8+19*len(b.Buckets)+29*len(b.Entries)), 3)
	out = appendArrayLen(out, len(b.Buckets))
	for _, s := range b.Buckets {
		out = appendArrayLen(out, 2)
		out = appendUint(out, s.Count)
		out = appendUint(out, s.Sum)
	}
	out = appendArrayLen(out, len(b.Entries))
	for _, e := range b.Entries {
		out = appendArrayLen(out, 2)
		out = appendListID(out, e.List)
		out = appendUint(out, e.Hash)
	}
	t := uint64(0)
	if b.Truncated {
		t = 1
	}
	return appendUint(out, t), nil
}

// DecodeDigestReplyBody decodes a DigestReply's body. Entries is nil when
// empty.
func DecodeDigestReplyBody(p []byte) (DigestReplyBody, error) {
	r, err := bodyReader("digest reply body", p, MaxControlBodySize)
	if err != nil {
		return DigestReplyBody{}, err
	}
	var b DigestReplyBody
	r.fixedArray("digest reply body", 3)
	n := r.listArray("digest buckets", MaxDigestBuckets)
	for i := 0; i < n && r.err == nil; i++ {
		r.fixedArray("digest bucket", 2)
		b.Buckets = append(b.Buckets, BucketSum{Count: r.uint("bucket count"), Sum: r.uint("bucket sum")})
	}
	n = r.listArray("digest entries", MaxDigestEntries)
	for i := 0; i < n && r.err == nil; i++ {
		r.fixedArray("digest entry", 2)
		e := DigestEntry{List: r.listID("digest entry list ID")}
		e.Hash = r.uint("digest entry hash")
		b.Entries = append(b.Entries, e)
	}
	t := r.uint("truncated")
	if r.err == nil && t > 1 {
		r.fail(ErrMalformed, "truncated = %d, want 0 or 1", t)
	}
	b.Truncated = t == 1
	if err := finish(&r, "digest reply body", b.check); err != nil {
		return DigestReplyBody{}, err
	}
	return b, nil
}

// ServerReportBody is the body of a ServerReport: [lists uint, hints uint,
// moving uint, healed uint, damaged uint, reset uint]: the lists the server
// stores, the hints it keeps for other servers, how many of its hints move
// lists to new owners after a ring change (rebalancing) rather than cover a
// down owner, how many times it healed a list since it started (dropped
// corrupt values, so that the other replicas make the list whole again),
// how many lists it refuses as damaged until an operator repairs them, and
// 1 if it started with an empty store after setting a corrupt one aside (0
// otherwise). A body of the first three fields alone, from a server that
// predates the others, decodes with them zero.
type ServerReportBody struct {
	Lists, Hints, Moving uint64
	Healed, Damaged      uint64
	Reset                bool
}

// Encode returns the body's encoding.
func (b ServerReportBody) Encode() ([]byte, error) {
	out := appendArrayLen(make([]byte, 0, 48), 6)
	out = appendUint(out, b.Lists)
	out = appendUint(out, b.Hints)
	out = appendUint(out, b.Moving)
	out = appendUint(out, b.Healed)
	out = appendUint(out, b.Damaged)
	reset := uint64(0)
	if b.Reset {
		reset = 1
	}
	return appendUint(out, reset), nil
}

// DecodeServerReportBody decodes a ServerReport's body, of three fields or
// six.
func DecodeServerReportBody(p []byte) (ServerReportBody, error) {
	r, err := bodyReader("server report body", p, MaxControlBodySize)
	if err != nil {
		return ServerReportBody{}, err
	}
	var b ServerReportBody
	n := r.arrayLen("server report body")
	if r.err == nil && n != 3 && n != 6 {
		r.fail(ErrMalformed, "server report body has %d fields, want 3 or 6", n)
	}
	b.Lists = r.uint("lists")
	b.Hints = r.uint("hints")
	b.Moving = r.uint("moving")
	if n == 6 {
		b.Healed = r.uint("healed")
		b.Damaged = r.uint("damaged")
		reset := r.uint("reset")
		if r.err == nil && reset > 1 {
			r.fail(ErrMalformed, "reset = %d, want 0 or 1", reset)
		}
		b.Reset = reset == 1
	}
	if err := finish(&r, "server report body", func() error { return nil }); err != nil {
		return ServerReportBody{}, err
	}
	return b, nil
}

// NewServerReport returns a server's report of what it stores; epoch is
// its adopted ring epoch.
func NewServerReport(epoch uint64, b ServerReportBody) (Message, error) {
	body, err := b.Encode()
	return encoded(TypeServerReport, 0, epoch, body, err)
}

// NewDigest returns the proxy's Digest request for a ring range.
func NewDigest(reqID, epoch uint64, b DigestBody) (Message, error) {
	body, err := b.Encode()
	return encoded(TypeDigest, reqID, epoch, body, err)
}

// NewDigestReply returns a server's answer to a Digest.
func NewDigestReply(reqID, epoch uint64, b DigestReplyBody) (Message, error) {
	body, err := b.Encode()
	return encoded(TypeDigestReply, reqID, epoch, body, err)
}
