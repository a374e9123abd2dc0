package main

// reportStartup adds the start-up rows (bench/startup_test.go's
// BenchmarkStartup): `tools --sandbox` run to its exit without plugins and
// with the four shipped plugins (three in Go, one in AssemblyScript), with a warm cache (the plugins' tools
// listed from the describe cache, nothing compiled or instantiated) and a
// cold one (each plugin compiled and described). The targets are what the
// warm start may add to the start without plugins: 60 ms and 40 MB.
func reportStartup(row rowFunc, r results, msF, mbF func(float64) string) {
	const bench = "BenchmarkStartup/"
	get := func(name, unit string) (float64, bool) { return r.get(bench+name, unit) }
	none, okN := get("none", "ms/start-median")
	noneRSS, okNR := get("none", "MB-peak-rss")
	warm, okW := get("shipped-warm", "ms/start-median")
	warmRSS, okWR := get("shipped-warm", "MB-peak-rss")
	cold, okC := get("shipped-cold", "ms/start-median")
	coldRSS, okCR := get("shipped-cold", "MB-peak-rss")
	row("start-up (tools --sandbox), no plugins: median wall time", none, okN, msF, 0)
	row("  its peak RSS (median)", noneRSS, okNR, mbF, 0)
	row("start-up, the shipped plugins, warm cache: median wall time", warm, okW, msF, 0)
	row("  its peak RSS (median)", warmRSS, okWR, mbF, 0)
	row("start-up, the shipped plugins, warm cache: added over none", warm-none, okW && okN, msF, 60)
	row("start-up, the shipped plugins, warm cache: peak RSS added over none", warmRSS-noneRSS, okWR && okNR, mbF, 40)
	row("start-up, the shipped plugins, cold cache: median wall time (3 runs)", cold, okC, msF, 0)
	row("  its peak RSS (median)", coldRSS, okCR, mbF, 0)
}
