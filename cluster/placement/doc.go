// Package placement is the decided ring membership as the data path sees
// it: the View a proxy routes with, and the Membership that decides it.
//
// Package proxy routes with a View and asks a Membership for changes;
// package membership decides them (by Raft among the proxies, or a single
// proxy's Registry). Both import this package and neither imports the
// other, so the proxy can be run with any membership and the membership
// tested without a proxy.
package placement
