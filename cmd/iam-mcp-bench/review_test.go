package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"text/tabwriter"
)

// TestReportReview reads the access review's benchmark lines as go test
// prints them and checks the rows: plugin against native side by side,
// their ratio against the 2× target, and the memory of each, including
// the share of the process that is the sandbox's account.
func TestReportReview(t *testing.T) {
	out := `goos: linux
BenchmarkAccessReview/principals=10000/plugin-2         	       1	42809719848 ns/op	       326.4 MB-added-rss	        79.50 MB-account-rss	       114.9 MB-idle-rss	       441.3 MB-peak-rss	        14.00 iam-calls	        30.10 s-cpu/review	        34.69 s/review
BenchmarkAccessReview/principals=10000/native-2         	       1	2276837018 ns/op	        68.61 MB-added-rss	        79.50 MB-account-rss	        66.40 MB-idle-rss	       135.0 MB-peak-rss	        14.00 iam-calls	         1.505 s-cpu/review	         2.185 s/review
BenchmarkAccessReview/principals=10000/per-principal-2 	       1	133155928253 ns/op	        18.34 MB-added-rss	        79.50 MB-account-rss	        72.48 MB-idle-rss	        90.83 MB-peak-rss	     45760 iam-calls	       120.0 s-cpu/review	       133.0 s/review
PASS
`
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(what string, v float64, have bool, format func(float64) string, target float64) {
		switch {
		case !have:
			fmt.Fprintf(tw, "%s\tn/a\t\n", what)
		case target == 0:
			fmt.Fprintf(tw, "%s\t%s\t\n", what, format(v))
		default:
			verdict := "ok"
			if v > target {
				verdict = "OVER TARGET"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", what, format(v), format(target), verdict)
		}
	}
	reportReview(row, parse(out), func(v float64) string { return fmt.Sprintf("%.1f MB", v) })
	tw.Flush()
	got := b.String()
	for _, want := range []string{
		`plugin \(Wasm\) wall time +34\.69 s +30\.00 s +OVER TARGET`,
		`its IAM calls +14 +200 +ok`,
		`natively .*wall time +2\.19 s`,
		`plugin ÷ native, wall time +15\.9× +2\.0× +OVER TARGET`,
		`plugin ÷ native, CPU time .* +20\.0×`,
		`peak RSS of the process, plugin +441\.3 MB +200\.0 MB +OVER TARGET`,
		`peak RSS of the process, native +135\.0 MB +200\.0 MB +ok`,
		`the sandbox's account +79\.5 MB`,
		`added by the run .*, plugin +326\.4 MB`,
		`added by the run .*, native +68\.6 MB`,
		`per-principal .*wall time +133\.00 s`,
		`faster than per-principal gathering by +3\.8×`,
		// Nothing ran at 1,000 principals: its rows say so.
		`1000 principals, 20 ms/call: plugin \(Wasm\) wall time +n/a`,
	} {
		if !regexp.MustCompile(want).MatchString(got) {
			t.Errorf("no row matching %q in:\n%s", want, got)
		}
	}
}
