package groupca

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
)

// Credentials are one holder's certificate and key, and the group's CA
// certificate that every peer's certificate is checked against.
type Credentials struct {
	role   Role
	cert   tls.Certificate // Leaf set
	ca     *x509.Certificate
	pool   *x509.CertPool // the CA alone
	caPEM  []byte
	pemKey [2][]byte // certificate and key, as written to disk
}

// newCredentials parses and checks credentials: the key is the
// certificate's, and the certificate is issued by the CA for role.
func newCredentials(role Role, caPEM, certPEM, keyPEM []byte) (*Credentials, error) {
	block, _ := pem.Decode(caPEM)
	if block == nil || block.Type != certBlock {
		return nil, fmt.Errorf("groupca: the CA certificate is not a PEM %s", certBlock)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("groupca: the CA certificate: %w", err)
	}
	if !ca.IsCA {
		return nil, fmt.Errorf("groupca: the CA certificate (%s) is not a CA's", ca.Subject.CommonName)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("groupca: the %s certificate and key: %w", role, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fmt.Errorf("%w: the %s certificate, against %s: %w", ErrNotIssued, role, ca.Subject.CommonName, err)
	}
	if got := roleOf(cert.Leaf); got != role {
		return nil, fmt.Errorf("%w: a %s certificate where a %s's is needed", ErrNotIssued, got, role)
	}
	return &Credentials{role: role, cert: cert, ca: ca, pool: pool, caPEM: caPEM, pemKey: [2][]byte{certPEM, keyPEM}}, nil
}

// Role returns the role the credentials are issued for.
func (c *Credentials) Role() Role { return c.role }

// Group returns the name of the group's CA, "shoplist group <id>".
func (c *Credentials) Group() string { return c.ca.Subject.CommonName }

// Certificate returns the holder's certificate and key.
func (c *Credentials) Certificate() tls.Certificate { return c.cert }

// CAs returns a pool holding the group's CA certificate alone.
func (c *Credentials) CAs() *x509.CertPool { return c.pool }

// IsNode reports whether cert is a node's certificate: a proxy's. It
// checks the certificate's use, not its signature: call it on a
// certificate already verified against the group's CA, as a TLS
// connection's peer certificates are.
func IsNode(cert *x509.Certificate) bool {
	return cert.VerifyHostname(NodeName) == nil && slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
}

// roleOf returns the role a certificate was issued for ("" for neither).
func roleOf(cert *x509.Certificate) Role {
	switch {
	case IsNode(cert):
		return RoleNode
	case slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth):
		return RoleOperator
	}
	return ""
}

// PeerConfig returns the TLS configuration of a connection between two
// proxies, for either end: each presents its node certificate and accepts
// only a node certificate of the group (TLS 1.3). Raft's transport uses
// it both to accept and to dial. It needs node credentials.
func (c *Credentials) PeerConfig() *tls.Config {
	cfg := c.ServerConfig()
	cfg.RootCAs, cfg.ServerName = c.pool, NodeName
	cfg.GetClientCertificate = c.clientCertificate
	cfg.VerifyConnection = requireNode
	return cfg
}

// ServerConfig returns the TLS configuration of the admin API: it presents
// the node certificate and requires a client certificate the group issued,
// a proxy's or an operator's (TLS 1.3). It needs node credentials.
func (c *Credentials) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.cert},
		ClientCAs:    c.pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
}

// ClientConfig returns the TLS configuration of a client of the admin API:
// it presents these credentials' certificate and accepts only a proxy of
// the group as the server, whatever address it dialled (TLS 1.3).
func (c *Credentials) ClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		RootCAs:              c.pool,
		ServerName:           NodeName,
		GetClientCertificate: c.clientCertificate,
	}
}

// clientCertificate presents the certificate whatever the server says it
// accepts: a server of another group then refuses it by name, rather than
// seeing no certificate at all.
func (c *Credentials) clientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return &c.cert, nil
}

// requireNode refuses a connection whose peer is not a proxy of the group
// (an operator's certificate where a proxy's is needed).
func requireNode(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 || !IsNode(cs.PeerCertificates[0]) {
		return fmt.Errorf("%w: the peer is not a proxy of the group", ErrNotIssued)
	}
	return nil
}
