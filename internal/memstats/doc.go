// Package memstats reads where a process's resident memory goes, so that a
// role can say so in its log: the resident size the kernel reports, the Go
// runtime's share of it (heap objects, free heap not yet returned, stacks,
// its own metadata) and the C allocator's (what libzmq and Pebble's caches
// hold through malloc, and what freed memory the allocator keeps).
package memstats
