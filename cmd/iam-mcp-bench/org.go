package main

import "fmt"

// reportOrg adds the organisation-wide access review's rows
// (bench/org_test.go's BenchmarkOrgAccessReview): 50 member accounts of
// 1,000 principals each with 20 ms per request, reviewed at once by the
// shipped plugin through role sessions into each member. Issue 15's
// targets: under 60 s, under 10 IAM calls per account besides the
// AssumeRole.
func reportOrg(row rowFunc, r results, mbF func(float64) string) {
	sF := func(v float64) string { return fmt.Sprintf("%.1f s", v) }
	nF := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	for _, m := range []struct {
		what, unit string
		format     func(float64) string
		target     float64
	}{
		{"organisation review, 50 accounts × 1,000 principals, 20 ms/call: wall time", "s/review", sF, 60},
		{"  IAM calls per account, besides AssumeRole", "iam-calls/account", nF, 10},
		{"  AssumeRole calls (one session per account)", "assume-role", nF, 0},
		{"  Organizations calls (describe_organization, once)", "org-calls", nF, 0},
		{"  accounts in the report", "accounts", nF, 0},
		{"  peak RSS of the process (the 50 accounts' sandbox included)", "MB-peak-rss", mbF, 0},
		{"  peak RSS added by the run over the settled process", "MB-added-rss", mbF, 0},
	} {
		v, ok := r.get("BenchmarkOrgAccessReview", m.unit)
		row(m.what, v, ok, m.format, m.target)
	}
}
