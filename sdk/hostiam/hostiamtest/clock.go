package hostiamtest

import (
	"sync"
	"time"
)

// Clock is the time a test shares between the sandbox (sandbox.Options.Now)
// and a workflow (its Options.Now), and moves: key ages, last uses and grace
// periods are then exact. A Clock made by NewClock stands at its time until
// moved; the zero Clock reads the real time, shifted by SetOffset — what a
// plugin running in Wasm needs, since it reads WASI's real clock.
type Clock struct {
	mu    sync.Mutex
	fixed time.Time // zero: the real time
	off   time.Duration
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{fixed: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed.IsZero() {
		return time.Now().Add(c.off)
	}
	return c.fixed.Add(c.off)
}

// Set makes the clock stand at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fixed, c.off = t, 0
}

// Advance moves the clock by d (back when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// SetOffset puts the clock off from its base (its fixed time, or the real
// time for the zero Clock).
func (c *Clock) SetOffset(off time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = off
}
