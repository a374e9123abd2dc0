package main

import "fmt"

// reportHTTP adds the load test's rows (bench/http_test.go's
// BenchmarkHTTPLoad, issue 16): 50 clients at once, each with its own
// bearer token and narrowing headers, 100 mixed calls each over Streamable
// HTTP, against the same 5,000 calls over stdio on one session with 50 in
// flight; the latency of a call (p50, p99) on each and their ratio, the
// throughput, the errors (the issue asks for none), the refusals the
// narrowing must produce (exactly as many as expected), the leaks between
// clients (tools/list, results and audit lines checked per subject: none),
// how many clients spoke the stateless protocol, and memory.
//
// The benchmark itself fails on an error or a leak; these rows only show
// what it measured.
func reportHTTP(row rowFunc, r results, mbF func(float64) string) {
	get := func(unit string) (float64, bool) { return r.get("BenchmarkHTTPLoad", unit) }
	msF := func(v float64) string { return fmt.Sprintf("%.1f ms", v) }
	xF := func(v float64) string { return fmt.Sprintf("%.2f×", v) }
	rateF := func(v float64) string { return fmt.Sprintf("%.0f calls/s", v) }
	nF := func(v float64) string { return fmt.Sprintf("%.0f", v) }

	clients, _ := get("clients")
	calls, _ := get("calls")
	for _, m := range []struct {
		what, unit string
		format     func(float64) string
	}{
		{fmt.Sprintf("HTTP load, %.0f clients × %.0f mixed calls, sandbox org: p50 per call", clients, calls/max(clients, 1)), "http-ms-p50", msF},
		{"  p99 per call", "http-ms-p99", msF},
		{"  the same calls over stdio (one session, 50 in flight): p50", "stdio-ms-p50", msF},
		{"  over stdio: p99", "stdio-ms-p99", msF},
		{"  HTTP ÷ stdio, p50", "p50-ratio", xF},
		{"  HTTP ÷ stdio, p99", "p99-ratio", xF},
		{"  throughput over HTTP", "http-calls/s", rateF},
		{"  throughput over stdio", "stdio-calls/s", rateF},
		{"  errors (the issue: 0; the benchmark fails otherwise)", "errors", nF},
		{"  leaks between clients: tools/list, results, audit by subject (must be 0)", "leaks", nF},
	} {
		v, ok := get(m.unit)
		row(m.what, v, ok, m.format, 0)
	}
	exp, _ := get("refusals-expected")
	v, ok := get("refusals")
	row(fmt.Sprintf("  refusals by each client's narrowing (expected exactly %.0f)", exp), v, ok, nF, 0)
	asked, _ := get("stateless-asked")
	v, ok = get("stateless")
	row(fmt.Sprintf("  clients on the stateless 2026-07-28 protocol (of %.0f asking)", asked), v, ok, nF, 0)
	for _, m := range []struct{ what, unit string }{
		{"  peak RSS of the process during the HTTP run (server, 50 clients, sandbox)", "http-MB-peak-rss"},
		{"  peak RSS added by the HTTP run over the settled process", "http-MB-added-rss"},
		{"  peak RSS of the process during the stdio run", "stdio-MB-peak-rss"},
		{"  peak RSS added by the stdio run over the settled process", "stdio-MB-added-rss"},
	} {
		v, ok := get(m.unit)
		row(m.what, v, ok, mbF, 0)
	}
}
