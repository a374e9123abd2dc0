package plugin

import (
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Budgets for what a plugin may send the host besides its results: progress
// reports (which become MCP notifications on the client's stream) and log
// lines (which land in the server's log). A plugin that reports in a tight
// loop must not flood either; an honest one reports a few times a second
// at most.
const (
	// ProgressPerSecond and ProgressBurst are the token bucket of one tool
	// call's progress reports: ProgressBurst may come at once (a short
	// call that reports each of its steps), then ProgressPerSecond. A
	// report over the budget is dropped, except that the last one dropped
	// is still delivered when the call returns, before its result, if it is
	// newer than the last one delivered: the client sees where the call
	// ended.
	ProgressPerSecond = 10
	ProgressBurst     = 20
	// MaxProgressMessageBytes caps the message of one progress report;
	// longer ones are cut, with a marker.
	MaxProgressMessageBytes = 512
	// maxProgressInputBytes caps the JSON of one progress report read from
	// the plugin's memory (a message is cut after decoding, so a report a
	// little over the message cap still arrives).
	maxProgressInputBytes = 64 << 10

	// MaxLogLineBytes caps one log line of a plugin (Extism log call, or a
	// line of its stdout or stderr); a longer one is cut, with a marker.
	MaxLogLineBytes = 4 << 10
	// LogLinesPerSecond, LogLineBurst, LogBytesPerSecond and LogBytesBurst
	// are the token buckets of one plugin's log lines, all its calls
	// together: a line is logged when both buckets have room, else it is
	// dropped and counted. When a tool call ends, one line says how many
	// lines (and bytes) were dropped since the last such report.
	LogLinesPerSecond = 50
	LogLineBurst      = 200
	LogBytesPerSecond = 64 << 10
	LogBytesBurst     = 256 << 10
)

// bucket is a token bucket on an injectable clock (so that tests can stop
// time and count exactly what passes). Not safe for concurrent use; its
// owner locks.
type bucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func newBucket(rate, burst float64, now time.Time) bucket {
	return bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// refill adds the tokens earned since the last refill (none when the clock
// went backwards).
func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
}

// progressLimiter is one tool call's progress budget.
type progressLimiter struct {
	mu        sync.Mutex
	b         bucket
	now       func() time.Time
	delivered int
	dropped   int
	// pending is the last report dropped, delivered when the call returns
	// if nothing newer was delivered after it.
	pending *api.ProgressReport
}

func newProgressLimiter(now func() time.Time) *progressLimiter {
	return &progressLimiter{b: newBucket(ProgressPerSecond, ProgressBurst, now()), now: now}
}

// allow takes a token for r, or keeps r as the pending report.
func (l *progressLimiter) allow(r api.ProgressReport) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.refill(l.now())
	if l.b.tokens >= 1 {
		l.b.tokens--
		l.delivered++
		l.pending = nil
		return true
	}
	l.dropped++
	l.pending = &r
	return false
}

// final returns the pending report, once, to be delivered before the
// call's result.
func (l *progressLimiter) final() (api.ProgressReport, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == nil {
		return api.ProgressReport{}, false
	}
	r := *l.pending
	l.pending = nil
	l.dropped--
	l.delivered++
	return r, true
}

// logBudget is one plugin's log budget: lines and bytes, and what was
// dropped since the last report.
type logBudget struct {
	mu           sync.Mutex
	now          func() time.Time
	lines, bytes bucket
	droppedLines int64
	droppedBytes int64
}

func newLogBudget(now func() time.Time) *logBudget {
	t := now()
	return &logBudget{now: now, lines: newBucket(LogLinesPerSecond, LogLineBurst, t), bytes: newBucket(LogBytesPerSecond, LogBytesBurst, t)}
}

// allow reports whether a line of n bytes (already cut to MaxLogLineBytes)
// may be logged, and counts it as dropped if not.
func (l *logBudget) allow(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.lines.refill(now)
	l.bytes.refill(now)
	if l.lines.tokens >= 1 && l.bytes.tokens >= float64(n) {
		l.lines.tokens--
		l.bytes.tokens -= float64(n)
		return true
	}
	l.droppedLines++
	l.droppedBytes += int64(n)
	return false
}

// takeDropped returns and resets the counts of dropped lines and bytes.
func (l *logBudget) takeDropped() (lines, bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines, bytes = l.droppedLines, l.droppedBytes
	l.droppedLines, l.droppedBytes = 0, 0
	return lines, bytes
}

// cutText cuts s to at most max bytes, at a UTF-8 boundary, and says so
// with a marker naming the size it had; s as it is when it fits.
func cutText(s string, max int) string {
	return cutKept(s, len(s), max)
}

// cutKept is cutText for a text of which only the start, s, was kept, out
// of total bytes.
func cutKept(s string, total, max int) string {
	if total <= max && len(s) == total {
		return s
	}
	marker := fmt.Sprintf("… [cut: %d bytes in all]", total)
	n := min(len(s), max-len(marker))
	if n < 0 {
		n = 0
	}
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + marker
}
