// Command spin is a Go reactor for the instrumenter's tests, built as
// plugins are (-buildmode=c-shared): spin never returns; work(n) sums a
// loop of n iterations.
package main

var sink int32

//go:wasmexport spin
func spin() {
	for {
		sink++
	}
}

//go:wasmexport work
func work(n int32) int32 {
	s := int32(0)
	for i := int32(0); i < n; i++ {
		s += i % 7
	}
	return s
}

func main() {}
