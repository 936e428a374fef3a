package antientropy

import (
	"math/bits"

	"shoplist/protocol"
)

// Walking a range. A round itemises at most Config.MaxEntries lists per
// owner and repairs at most Config.MaxRepairs, however many lists differ.
// So that the next round over the range compares the lists after those,
// rather than the same ones again, each range has a cursor: the offset in
// the range (of a ring position p in (start, end]: p − start − 1) from
// which the next round compares. A round starts at its range's cursor and
// moves it past what it compared: past the last list it repaired when it
// had more to repair than it may, else past the last bucket it itemised.
// Past the range's end the cursor goes back to its start. A list that is
// never repaired (always being written, an owner that refuses it) is
// passed over like any other and tried again on the next pass.
//
// A round itemises differing buckets in ring order from the cursor, as
// many as fit in MaxEntries entries; a bucket holding more lists than that
// on some owner is not itemised but digested again, cut into Buckets
// buckets of its own, and so on down until the differing buckets fit (a
// bucket one position wide is itemised whatever its count). Each round
// therefore compares at least one list, or finds that the rest of what it
// looked at agrees, and a pass over a range of L differing lists takes at
// most about L / min(MaxEntries, MaxRepairs) rounds, whatever the number of
// lists in the range.

// span is an arc of a range, as offsets lo to hi in the range, inclusive.
type span struct{ lo, hi uint64 }

// width returns the number of positions in s; 0 stands for 2^64 (the
// whole ring).
func (s span) width() uint64 { return s.hi - s.lo + 1 }

// body returns the Digest body of s in the range starting at start.
func (s span) body(start uint64, want []int) protocol.DigestBody {
	return protocol.DigestBody{Start: start + s.lo, End: start + s.hi + 1, Buckets: Buckets, Want: want}
}

// bucket returns the arc of s that bucket i of a Digest of s with Buckets
// buckets covers (protocol.DigestBucket's inverse), and false if it holds
// no position.
func (s span) bucket(i int) (span, bool) {
	w := s.width()
	lo := ceilShare(uint64(i), w)
	var hi uint64
	if i+1 < Buckets {
		next := ceilShare(uint64(i+1), w)
		if next == lo {
			return span{}, false
		}
		hi = next - 1
	} else {
		if w != 0 && lo >= w {
			return span{}, false
		}
		hi = w - 1 // 2^64 - 1 when w stands for 2^64
	}
	return span{lo: s.lo + lo, hi: s.lo + hi}, true
}

// ceilShare returns ⌈i · w / Buckets⌉ for i < Buckets, w = 0 standing for
// 2^64: the first offset of bucket i in a span of width w.
func ceilShare(i, w uint64) uint64 {
	hi, lo := bits.Mul64(i, w)
	if w == 0 {
		hi, lo = i, 0
	}
	q, r := bits.Div64(hi, lo, Buckets)
	if r != 0 {
		q++
	}
	return q
}

// picked is what a round does next with the differing buckets of a span.
type picked struct {
	want    []int  // buckets to itemise, ascending
	through uint64 // the offset where the last of them ends
	descend int    // or the bucket to digest again, cut finer; -1 if none
}

// pickBuckets chooses, among the differing buckets of s, those to itemise:
// the ones that end at or after offset from, in ring order, as long as the
// largest count any owner reports for them adds up to at most limit. When
// the first of them alone is over the limit, and wider than one position,
// it is to be digested again instead. Nothing to itemise and no descent
// (want empty, descend -1) means no differing bucket ends at or after from.
func pickBuckets(s span, differ []int, owners []string, digests map[string]protocol.DigestReplyBody, from uint64, limit int) picked {
	p := picked{descend: -1}
	total := uint64(0)
	for _, b := range differ {
		arc, ok := s.bucket(b)
		if !ok || arc.hi < from {
			continue
		}
		most := uint64(0)
		for _, id := range owners {
			most = max(most, digests[id].Buckets[b].Count)
		}
		if len(p.want) == 0 && most > uint64(limit) && arc.width() != 1 {
			p.descend = b
			return p
		}
		if total+most > uint64(limit) && len(p.want) > 0 {
			break
		}
		total += most
		p.want, p.through = append(p.want, b), arc.hi
	}
	return p
}
