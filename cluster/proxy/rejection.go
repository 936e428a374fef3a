package proxy

import (
	"fmt"
	"slices"
	"strings"

	"shoplist/protocol"
)

// rejection returns the error a client gets when o cannot reach its
// quorum. When every server that failed refused the request for the same
// reason that is about the request itself (a bad list, a skewed clock),
// that reason is passed on; otherwise it is a quorum failure naming how
// many replicas were reached and why the others were not.
func (o *op) rejection() protocol.Message {
	if o.replicas == 0 {
		return protocol.NewError(o.reqID, protocol.CodeUnavailable, "no storage server has joined the ring yet")
	}
	if o.overBudget {
		return protocol.NewError(o.reqID, protocol.CodeUnavailable, fmt.Sprintf(
			"%s of list %s failed: proxy memory budget reached, %d of %d replicas' answers kept; retry later", o.kind, o.list, o.ok, o.replicas))
	}
	if o.kind == opHandoff {
		code, ok := sameRefusal(o.codes)
		if !ok {
			code = protocol.CodeUnavailable
		}
		return protocol.NewError(o.reqID, code, fmt.Sprintf("handoff of list %s failed: %s; keep the hint and retry",
			o.list, strings.Join(o.failures, "; ")))
	}
	if o.parked > 0 {
		// Replicas route by a newer ring than this proxy learned by the
		// deadline: it lags its group, or is cut off from it. Another
		// proxy may serve the client (client/syncer fails over on it).
		return protocol.NewError(o.reqID, protocol.CodeStaleEpoch, fmt.Sprintf(
			"%s of list %s failed: %d of %d replicas route by a newer ring than this proxy's (epoch %d), which has not caught up with its group; try another proxy",
			o.kind, o.list, o.parked, o.replicas, o.epoch))
	}
	if code, ok := sameRefusal(o.codes); ok && o.ok == 0 && len(o.codes) == len(o.failures) {
		return protocol.NewError(o.reqID, code, fmt.Sprintf("%s of list %s refused by the replicas: %s", o.kind, o.list, o.failures[0]))
	}
	verb, need := "acknowledged", fmt.Sprintf("W=%d", o.need)
	if o.kind == opPull {
		verb, need = "answered", fmt.Sprintf("R=%d", o.need)
	}
	msg := fmt.Sprintf("%s of list %s failed: %d of %d replicas %s, need %s", o.kind, o.list, o.ok, o.replicas, verb, need)
	why := o.failures
	if o.pending > 0 {
		// The quorum was out of reach before every replica answered.
		why = append(slices.Clone(why), fmt.Sprintf("%d not answered yet", o.pending))
	}
	if len(why) > 0 {
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	return protocol.NewError(o.reqID, protocol.CodeQuorumFailed, msg)
}

// sameRefusal reports the code when codes are all the same code that
// describes the request rather than the replica's health.
func sameRefusal(codes []protocol.ErrorCode) (protocol.ErrorCode, bool) {
	if len(codes) == 0 {
		return 0, false
	}
	for _, c := range codes {
		if c != codes[0] {
			return 0, false
		}
	}
	switch codes[0] {
	case protocol.CodeInvalidList, protocol.CodeClockSkew, protocol.CodeTooLarge, protocol.CodeBadRequest:
		return codes[0], true
	}
	return 0, false
}
