package groupca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Role is what a certificate lets its holder do.
type Role string

// The roles of the group's certificates.
const (
	// RoleNode is a proxy of the group: it serves and dials Raft, serves
	// the admin API and calls its peers' (forwarding, joining).
	RoleNode Role = "node"
	// RoleOperator is a person or script calling the admin API.
	RoleOperator Role = "operator"
)

// NodeName is the DNS name in every node certificate, which every peer and
// client verifies instead of the address it dialled.
const NodeName = "shoplist-proxy"

// Validity of what the CA signs. There is no renewal: a group outlives
// neither (see docs/ARCHITECTURE.md, "Security").
const (
	caValidity   = 20 * 365 * 24 * time.Hour
	leafValidity = 10 * 365 * 24 * time.Hour
	// clockSlack backdates every certificate, so that a peer whose clock
	// is a little behind accepts a certificate issued just now.
	clockSlack = time.Hour
)

// ErrNotIssued means a certificate is not one the group's CA issued for
// the role it is used in.
var ErrNotIssued = errors.New("groupca: certificate not issued by the group's CA for this role")

// CA is the group's certificate authority: its certificate and key.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA creates a new CA: a fresh key and a self-signed certificate named
// after a random group ID.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("groupca: generating the CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("groupca: generating a group ID: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "shoplist group " + hex.EncodeToString(id[:])},
		NotBefore:             now.Add(-clockSlack),
		NotAfter:              now.Add(caValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true, // it signs leaves only
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("groupca: signing the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("groupca: the CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key}, nil
}

// Name returns the CA's name, "shoplist group <id>".
func (ca *CA) Name() string { return ca.cert.Subject.CommonName }

// Issue returns new credentials for role, signed by the CA.
func (ca *CA) Issue(role Role) (*Credentials, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("groupca: generating a %s key: %w", role, err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	notAfter := now.Add(leafValidity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		NotBefore:    now.Add(-clockSlack),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	switch role {
	case RoleNode:
		tmpl.Subject = pkix.Name{CommonName: "shoplist proxy"}
		tmpl.DNSNames = []string{NodeName}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	case RoleOperator:
		tmpl.Subject = pkix.Name{CommonName: "shoplist operator"}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		return nil, fmt.Errorf("groupca: no role %q", role)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("groupca: signing a %s certificate: %w", role, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("groupca: encoding a %s key: %w", role, err)
	}
	return newCredentials(role, ca.certPEM(), pemBlock(certBlock, der), pemBlock(keyBlock, keyDER))
}

// certPEM returns the CA certificate in PEM.
func (ca *CA) certPEM() []byte { return pemBlock(certBlock, ca.cert.Raw) }

// keyPEM returns the CA key in PEM (PKCS #8).
func (ca *CA) keyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return nil, fmt.Errorf("groupca: encoding the CA key: %w", err)
	}
	return pemBlock(keyBlock, der), nil
}

// parseCA returns the CA whose certificate and key are certPEM and keyPEM,
// checking that the key is the certificate's and the certificate a CA's.
func parseCA(certPEM, keyPEM []byte) (*CA, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("groupca: the CA certificate and key: %w", err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("groupca: the CA key is a %T, want ECDSA", pair.PrivateKey)
	}
	if !pair.Leaf.IsCA {
		return nil, errors.New("groupca: the CA certificate is not a CA's")
	}
	return &CA{cert: pair.Leaf, key: key}, nil
}

// PEM block types.
const (
	certBlock = "CERTIFICATE"
	keyBlock  = "PRIVATE KEY"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// newSerial returns a random 128-bit serial number.
func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("groupca: generating a serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil // never 0
}
