// Command loops is a Go program for the instrumenter's tests: it does
// deterministic work over its input (maps, sorting, goroutines and
// channels, hashing, JSON, big numbers, recursion, a recovered panic) and
// prints what it found, so that the instrumented program's output can be
// compared with the original's. With the argument "spin" it spins in main
// for ever instead.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strings"
	"sync"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "spin" {
		spin()
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	counts := map[string]int{}
	for _, w := range strings.Fields(string(in)) {
		counts[strings.ToLower(strings.Trim(w, ".,;:!?\"'()"))]++
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		if counts[words[i]] != counts[words[j]] {
			return counts[words[i]] > counts[words[j]]
		}
		return words[i] < words[j]
	})
	if len(words) > 10 {
		words = words[:10]
	}
	top := make([]map[string]any, 0, len(words))
	for _, w := range words {
		top = append(top, map[string]any{"word": w, "count": counts[w]})
	}
	js, _ := json.Marshal(top)
	fmt.Printf("%d distinct words; top: %s\n", len(counts), js)

	// Goroutines and channels: eight hashes computed concurrently.
	sums := make([]string, 8)
	var wg sync.WaitGroup
	ch := make(chan struct {
		i   int
		sum string
	})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			h := sha256.New()
			for r := 0; r <= i*100; r++ {
				h.Write(in)
				h.Write([]byte{byte(r)})
			}
			ch <- struct {
				i   int
				sum string
			}{i, hex.EncodeToString(h.Sum(nil))[:16]}
		}(i)
	}
	go func() { wg.Wait(); close(ch) }()
	for r := range ch {
		sums[r.i] = r.sum
	}
	fmt.Println("hashes:", strings.Join(sums, " "))

	f := big.NewInt(1)
	for i := int64(2); i <= 300; i++ {
		f.Mul(f, big.NewInt(i))
	}
	fmt.Println("300! has", len(f.String()), "digits, ends", f.String()[len(f.String())-80:])
	fmt.Println("fib(27) =", fib(27))
	fmt.Println("recovered:", recovered())
}

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func recovered() (msg string) {
	defer func() { msg = fmt.Sprint(recover()) }()
	var m map[string]int
	m["x"] = 1
	return "no panic"
}

var sink int

func spin() {
	for {
		sink++
	}
}
