// Package admin is a proxy's admin HTTP API, its client, and the `proxy
// status`, `proxy remove`, `proxy admit` and `proxy revoke` commands built
// on them. Proxies of one Raft
// group use it to forward membership changes to the leader and to add a
// joining proxy as a voter; operators and scripts use it to see and change
// the ring.
//
// The API is HTTPS with mutual TLS (package groupca): the proxy presents
// its node certificate, and a client without a certificate of the group's
// CA is refused by the handshake, before any route. A proxy's certificate
// opens every route; an operator's (`proxy status`, `proxy remove`,
// `proxy admit`, `proxy revoke`, `service status`, read from --data or
// --credentials) every route but the
// group's own traffic, /v1/apply and /v1/proxies (403, code forbidden).
//
// Routes (request bodies at most MaxBodySize bytes; answers are JSON):
//
//	POST /v1/apply    body: an encoded membership command, as a follower's
//	                  Node forwards it (Forwarder). Applied by the leader's
//	                  Node; answer {"ok":true} once committed.
//	POST /v1/proxies  {"id":"proxy-…","raft":"host:port"}: add a proxy to
//	                  the Raft group as a voter. A follower passes it on to
//	                  the leader's admin API (once). Answer {"ok":true}.
//	GET  /v1/status   Status: {"admin", "membership": membership.Status,
//	                  "proxies": [ProxyHealth], "proxy": proxy.Status,
//	                  "proxy_error"}; answering it pings every other proxy
//	                  (below, within a second each) to say which are up.
//	GET  /v1/ping     {"id"}: this proxy's ID, to show it is up.
//	POST /v1/remove   {"server":"s1","force":false}: without force the
//	                  server is marked leaving (the leader removes it once it
//	                  has handed its lists over), with force it is removed
//	                  now. Answer {"server":"s1","action":"leave"|"remove"}
//	                  once the change is committed.
//	POST /v1/admit    {"server":"s6","key":"<Z85>"}: admit a storage server
//	                  to the proxies' backend with its CURVE public key
//	                  (a new key replaces its old one). Answer
//	                  {"server":"s6","action":"admit"} once committed; the
//	                  leader logs it.
//	POST /v1/revoke   {"server":"s6"}: withdraw its admission: the proxies
//	                  refuse its connections and messages from then on.
//	                  Answer {"server":"s6","action":"revoke"}.
//
// Errors are {"error":"text","code":"…"} with an HTTP status of 4xx or 5xx;
// the code names the sentinel error (not_leader, no_leader, removed,
// not_member, not_admitted, key_in_use, full, malformed, bad_request,
// forbidden, timeout, …), which
// the Client gives back as a *RemoteError that errors.Is matches against
// the same sentinels as the local error.
//
// Files: server.go (the routes), client.go (Client and the Forwarder),
// errors.go (error codes), cli.go (the subcommands), admission.go
// (admitting and revoking storage servers: routes, client, subcommands),
// format.go (the status table).
package admin
