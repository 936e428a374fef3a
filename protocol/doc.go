// Package protocol defines the ZeroMQ wire format spoken by shoplist clients, the proxy and storage servers (see docs/PROTOCOL.md).
package protocol
