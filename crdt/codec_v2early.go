package crdt

// Format version 2 as first written, before lists had a floor: the list
// has no floor field, slots no base, and a remove's snapshots no remove of
// their own (list, slot and snapshot have the version 1 field counts).
// Such lists are read and converted, so a replica written by that release
// loses nothing:
//
//   - the floor is zero and every slot is of the first life;
//   - each snapshot's remove is taken to be the item's latest remove, which
//     is after everything the item's removes saw; it can only keep a
//     snapshot from being forgotten longer than the true remove would;
//   - what the list would no longer keep (an observation a snapshot made
//     redundant) is dropped at once, which changes nothing a person sees.

// earlySnapshots gives the snapshots of an item read in that form their
// remove.
func earlySnapshots(it *item) {
	for i := range it.cut {
		it.cut[i].ext = &slotExt{by: it.removed}
	}
}
