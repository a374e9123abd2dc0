package main

import "fmt"

// reportReview adds the access review's rows (bench/review_test.go's
// BenchmarkAccessReview): on accounts of 1,000 and 10,000 principals with
// 20 ms per IAM request, the shipped plugin run by the plugin runtime, the
// same workflow code run natively in the same process through the test
// kit, and a per-principal gatherer. The targets are issue 6's (10,000
// principals in under 30 s with fewer than 200 IAM calls) and issue 14's
// (the plugin within 2× of native, under 200 MB peak).
//
// Memory is shown three ways, because the process's peak also holds what is
// not the review's: the sandbox's accounts (the account row), the test
// binary and, for the plugin, the compiled module. "Added by the run" is
// the peak less the settled process just before the run, measured the same
// way for both.
func reportReview(row rowFunc, r results, mbF func(float64) string) {
	sF := func(v float64) string { return fmt.Sprintf("%.2f s", v) }
	nF := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	xF := func(v float64) string { return fmt.Sprintf("%.1f×", v) }
	for _, n := range []string{"1000", "10000"} {
		wall, calls, ratio, peak := 0.0, 0.0, 0.0, 0.0
		if n == "10000" {
			wall, calls, ratio, peak = 30, 200, 2, 200
		}
		base := "BenchmarkAccessReview/principals=" + n
		get := func(variant, unit string) (float64, bool) { return r.get(base+"/"+variant, unit) }
		pt, okP := get("plugin", "s/review")
		pc, _ := get("plugin", "iam-calls")
		pcpu, okPC := get("plugin", "s-cpu/review")
		pm, okPM := get("plugin", "MB-peak-rss")
		pa, okPA := get("plugin", "MB-added-rss")
		nt, okN := get("native", "s/review")
		ncpu, okNC := get("native", "s-cpu/review")
		nm, okNM := get("native", "MB-peak-rss")
		na, okNA := get("native", "MB-added-rss")
		acct, okA := get("plugin", "MB-account-rss")
		if !okA {
			acct, okA = get("native", "MB-account-rss")
		}
		bt, okB := get("per-principal", "s/review")
		bc, _ := get("per-principal", "iam-calls")

		row("access review, "+n+" principals, 20 ms/call: plugin (Wasm) wall time", pt, okP, sF, wall)
		row("  its IAM calls", pc, okP, nF, calls)
		first, okF := get("plugin", "s/first-call")
		row("  before it, unmeasured there: the plugin's first call (compile from cache, start, a short review)", first, okF, sF, 0)
		row("  the same code run natively (test kit, same sandbox and gate): wall time", nt, okN, sF, 0)
		row("  plugin ÷ native, wall time", pt/nt, okP && okN && nt > 0, xF, ratio)
		row("  plugin ÷ native, CPU time of the process (less disturbed by a busy machine)", pcpu/ncpu, okPC && okNC && ncpu > 0, xF, 0)
		row("  peak RSS of the process, plugin", pm, okPM, mbF, peak)
		row("  peak RSS of the process, native", nm, okNM, mbF, peak)
		row("  of which the sandbox's account", acct, okA, mbF, 0)
		row("  peak RSS added by the run over the settled process, plugin", pa, okPA, mbF, 0)
		row("  peak RSS added by the run over the settled process, native", na, okNA, mbF, 0)
		row("  per-principal gatherer (prowler's way, no analysis): wall time", bt, okB, sF, 0)
		row("  its IAM calls", bc, okB, nF, 0)
		if okP && okB && pt > 0 {
			row("  plugin review faster than per-principal gathering by", bt/pt, true, xF, 0)
		}
	}
}
