// Package faults kills, pauses and restarts the processes of a launched
// cluster, for tests.
//
// Servers are named by ID and proxies by index, as the launcher's Servers
// and Proxies list them. Every fault goes through the launcher
// (launcher.Cluster's Signal and Restart), which keeps its account of its
// children true: a child killed or stopped here is not reported as a crash
// by NextExit, a paused one is left out of readiness waits and is resumed
// by Close to be stopped, and a restarted one is waited for until the
// cluster has it back.
//
//	Kill    SIGKILL, as a crash; returns once the process is gone
//	Stop    SIGTERM, a clean shutdown; SIGKILL after the launcher's grace period
//	Pause   SIGSTOP, as a hung process; returns once every thread is stopped
//	Resume  SIGCONT
//	Start   starts a killed or stopped child again, with its data and addresses
package faults
