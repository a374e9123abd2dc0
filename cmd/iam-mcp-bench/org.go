package main

import "fmt"

// reportOrg adds the organisation-wide access review's rows
// (bench/org_test.go's BenchmarkOrgAccessReview): 50 member accounts of
// 1,000 principals each with 20 ms per request, reviewed at once by the
// shipped plugin through role sessions into each member. Issue 15's
// targets: under 60 s, under 10 IAM calls per account besides the
// AssumeRole.
func reportOrg(row rowFunc, r results, mbF func(float64) string) {
	const base = "BenchmarkOrgAccessReview"
	get := func(unit string) (float64, bool) { return r.get(base, unit) }
	sF := func(v float64) string { return fmt.Sprintf("%.1f s", v) }
	nF := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	t, okT := get("s/review")
	row("organisation review, 50 accounts × 1,000 principals, 20 ms/call: wall time", t, okT, sF, 60)
	calls, okC := get("iam-calls/account")
	row("  IAM calls per account, besides AssumeRole", calls, okC, nF, 10)
	assume, okA := get("assume-role")
	row("  AssumeRole calls (one session per account)", assume, okA, nF, 0)
	org, okO := get("org-calls")
	row("  Organizations calls (describe_organization, once)", org, okO, nF, 0)
	n, okN := get("accounts")
	row("  accounts in the report", n, okN, nF, 0)
	peak, okP := get("MB-peak-rss")
	row("  peak RSS of the process (the 50 accounts' sandbox included)", peak, okP, mbF, 0)
	added, okD := get("MB-added-rss")
	row("  peak RSS added by the run over the settled process", added, okD, mbF, 0)
}
