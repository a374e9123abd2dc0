package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReportHTTP reads the load test's benchmark line as go test prints it
// (a real run's) and checks the rows report prints from it: HTTP and
// stdio side by side, their ratios, the errors, leaks and refusals, the
// stateless clients and the memory.
func TestReportHTTP(t *testing.T) {
	out := `goos: linux
BenchmarkHTTPLoad-2   	       1	20655215450 ns/op	      5000 calls	        50.00 clients	         0 errors	        75.04 http-MB-added-rss	       126.3 http-MB-peak-rss	       625.4 http-calls/s	        60.36 http-ms-p50	       419.7 http-ms-p99	         0 leaks	         0.6725 p50-ratio	         0.8956 p99-ratio	       670.0 refusals	       670.0 refusals-expected	        20.00 stateless	        20.00 stateless-asked	        43.42 stdio-MB-added-rss	       107.8 stdio-MB-peak-rss	       447.7 stdio-calls/s	        89.76 stdio-ms-p50	       468.7 stdio-ms-p99
PASS
`
	var b strings.Builder
	report(&b, parse(out), "bin/iam-mcp-server", time.Minute)
	got := b.String()
	for _, want := range []string{
		`HTTP load, 50 clients × 100 mixed calls, sandbox org: p50 per call +60\.4 ms`,
		`  p99 per call +419\.7 ms`,
		`over stdio \(one session, 50 in flight\): p50 +89\.8 ms`,
		`over stdio: p99 +468\.7 ms`,
		`HTTP ÷ stdio, p50 +0\.67×`,
		`HTTP ÷ stdio, p99 +0\.90×`,
		`throughput over HTTP +625 calls/s`,
		`throughput over stdio +448 calls/s`,
		`errors \(the issue: 0; .*\) +0\b`,
		`leaks between clients.* +0\b`,
		`refusals by each client's narrowing \(expected exactly 670\) +670\b`,
		`stateless 2026-07-28 protocol \(of 20 asking\) +20\b`,
		`peak RSS of the process during the HTTP run .* +126\.3 MB`,
		`added by the HTTP run .* +75\.0 MB`,
		`peak RSS of the process during the stdio run +107\.8 MB`,
		`added by the stdio run .* +43\.4 MB`,
	} {
		if !regexp.MustCompile(want).MatchString(got) {
			t.Errorf("no row matching %q in:\n%s", want, got)
		}
	}
	// Without the benchmark's line the rows say n/a, never a number.
	b.Reset()
	report(&b, parse("BenchmarkOrgAccessReview-2 1 1 ns/op 3 accounts\n"), "bin/iam-mcp-server", time.Minute)
	if !regexp.MustCompile(`throughput over HTTP +n/a`).MatchString(b.String()) {
		t.Errorf("no n/a row for a missing load test in:\n%s", b.String())
	}
}
