package admin

import (
	"context"
	"errors"
	"net/http"

	"shoplist/cluster/membership"
	"shoplist/cluster/placement"
	"shoplist/cluster/proxy"
)

// ErrBadRequest means a request to the admin API was not understood: an
// unknown route, a wrong method, a body that is too large or not the JSON
// asked for.
var ErrBadRequest = errors.New("admin: bad request")

// ErrUnauthenticated means a request came without a verified client
// certificate of the group's CA.
var ErrUnauthenticated = errors.New("admin: unauthenticated")

// ErrForbidden means a request's certificate does not allow the route: an
// operator's on a route of the proxies' own.
var ErrForbidden = errors.New("admin: forbidden")

// ErrUnavailable means the admin API answered that it cannot serve the
// request now (the proxy is not started yet), or answered nothing usable.
var ErrUnavailable = errors.New("admin: unavailable")

// errorCode ties an error code of the API's JSON errors to its HTTP status
// and the sentinel it stands for. The first sentinel an error wraps, in
// this order, gives its code.
type errorCode struct {
	code   string
	status int
	err    error
}

var errorCodes = []errorCode{
	{"not_leader", http.StatusServiceUnavailable, membership.ErrNotLeader},
	{"no_leader", http.StatusServiceUnavailable, membership.ErrNoLeader},
	{"closed", http.StatusServiceUnavailable, membership.ErrClosed},
	{"proxy_closed", http.StatusServiceUnavailable, proxy.ErrClosed},
	{"undecided", http.StatusServiceUnavailable, membership.ErrUndecided},
	{"unavailable", http.StatusServiceUnavailable, ErrUnavailable},
	{"removed", http.StatusConflict, placement.ErrRemoved},
	{"not_member", http.StatusNotFound, placement.ErrNotMember},
	{"not_admitted", http.StatusNotFound, membership.ErrNotAdmitted},
	{"key_in_use", http.StatusConflict, membership.ErrKeyInUse},
	{"not_configured", http.StatusServiceUnavailable, membership.ErrNotConfigured},
	{"already_configured", http.StatusConflict, membership.ErrAlreadyConfigured},
	{"config_mismatch", http.StatusConflict, membership.ErrConfigMismatch},
	{"full", http.StatusConflict, membership.ErrFull},
	{"unknown_version", http.StatusBadRequest, membership.ErrUnknownVersion},
	{"unknown_op", http.StatusBadRequest, membership.ErrUnknownOp},
	{"malformed", http.StatusBadRequest, membership.ErrMalformed},
	{"invalid", http.StatusBadRequest, membership.ErrConfig},
	{"bad_request", http.StatusBadRequest, ErrBadRequest},
	{"unauthenticated", http.StatusUnauthorized, ErrUnauthenticated},
	{"forbidden", http.StatusForbidden, ErrForbidden},
	{"timeout", http.StatusGatewayTimeout, context.DeadlineExceeded},
	{"canceled", http.StatusServiceUnavailable, context.Canceled},
}

// codeOf returns the code and HTTP status that report err: "internal" and
// 500 for an error that wraps no known sentinel.
func codeOf(err error) (string, int) {
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return c.code, c.status
		}
	}
	return "internal", http.StatusInternalServerError
}

// sentinelOf returns the sentinel a code stands for, or nil.
func sentinelOf(code string) error {
	for _, c := range errorCodes {
		if c.code == code {
			return c.err
		}
	}
	return nil
}

// errorBody is the JSON of every error the API answers.
type errorBody struct {
	Error string `json:"error"` // the error's text, as the serving proxy has it
	Code  string `json:"code"`  // what it means, for programs: see errorCodes
}

// RemoteError is an error a proxy's admin API answered with. errors.Is
// finds the sentinel its code stands for (membership.ErrNotLeader,
// placement.ErrRemoved, …), so a caller tests it as it would the local error.
type RemoteError struct {
	Addr    string // the admin address that answered
	Status  int    // the HTTP status
	Code    string
	Message string
}

// Error returns the remote message, as the answering proxy has it (it may
// itself come from the leader, when that proxy passed the request on).
func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the sentinel of the code, or nil for an unknown code.
func (e *RemoteError) Unwrap() error { return sentinelOf(e.Code) }
