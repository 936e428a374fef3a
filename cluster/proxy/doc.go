// Package proxy routes clients' list requests to the storage servers that own
// each list on the hash ring, with quorum writes and reads, and publishes live
// updates.
package proxy
