// Package groupca is the proxy group's certificate authority and the
// credentials it issues, kept on disk and turned into TLS configurations.
//
// The proxy that founds a group (a proxy started without --join and
// without credentials) creates the CA: an ECDSA P-256 key and a
// self-signed certificate. The CA issues two kinds of credentials, each a
// certificate and its key:
//
//   - a node's (RoleNode): a proxy of the group. It serves and dials Raft
//     and serves the admin API; its certificate carries NodeName, the name
//     every peer and client verifies, so proxies are known by the CA that
//     signed them rather than by addresses, which change and are not names.
//   - an operator's (RoleOperator): a person or script using the admin
//     API. Its certificate is good for client authentication only: it
//     cannot serve, join Raft or pass changes on as a proxy does.
//
// A directory of credentials (DirIn: DATA/credentials, mode 0700) holds
// CAFile and, by role, NodeFile and NodeKeyFile or OperatorFile and
// OperatorKeyFile; the founder's also holds CAKeyFile, with which it
// issues credentials to joining proxies (Issue). Every file is mode 0600.
// A directory is written whole, in a temporary directory renamed into
// place, so it never holds half a set.
//
// Files: ca.go (the CA and issuing), credentials.go (loaded credentials
// and their TLS configurations), files.go (the directory on disk).
package groupca
