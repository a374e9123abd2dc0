//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package main

// isTerminal reports false where the terminal check is not written: call
// then refuses what --confirm covers unless --yes is given, never runs it
// without a yes.
func isTerminal(fd uintptr) bool { return false }
