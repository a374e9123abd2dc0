package sandbox

import (
	"context"
	"math/rand"
	"sync"
	"time"
)

// Faults makes the sandbox behave like IAM on a bad day, reproducibly: every
// request waits Latency, then fails with Throttling (HTTP 400, which the AWS
// SDK retries with back-off) at ThrottleRate, or with a 500 ServiceFailure at
// ErrorRate. Rates are fractions in [0, 1]; Seed makes the sequence of
// failures repeatable.
type Faults struct {
	Latency      time.Duration
	ThrottleRate float64
	ErrorRate    float64
	Seed         int64
}

type faultInjector struct {
	f   Faults
	mu  sync.Mutex
	rnd *rand.Rand
}

func newFaultInjector(f Faults) *faultInjector {
	return &faultInjector{f: f, rnd: rand.New(rand.NewSource(f.Seed))}
}

// before applies the configured faults to one request: nil lets it run.
func (fi *faultInjector) before(ctx context.Context) *Error {
	if fi.f.Latency > 0 {
		t := time.NewTimer(fi.f.Latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return apiErr("RequestCanceled", 400, "The request was canceled by the client.")
		}
	}
	if fi.f.ThrottleRate <= 0 && fi.f.ErrorRate <= 0 {
		return nil
	}
	fi.mu.Lock()
	x := fi.rnd.Float64()
	fi.mu.Unlock()
	switch {
	case x < fi.f.ThrottleRate:
		return apiErr("Throttling", 400, "Rate exceeded")
	case x < fi.f.ThrottleRate+fi.f.ErrorRate:
		return apiErr("ServiceFailure", 500, "The request processing has failed because of an unknown error, exception or failure.")
	}
	return nil
}
