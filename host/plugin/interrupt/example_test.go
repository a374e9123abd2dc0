package interrupt_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iammcp/iam-mcp-server/host/plugin/interrupt"
	"github.com/tetratelabs/wazero"
)

// A module whose export "spin" loops for ever, in a runtime without
// WithCloseOnContextDone: instrumented, its call stops when its context
// ends.
func Example() {
	spin := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // type [] → []
		"\x03\x02\x01\x00" + // one function
		"\x07\x08\x01\x04spin\x00\x00" + // exported as spin
		"\x0a\x09\x01\x07\x00\x03\x40\x0c\x00\x0b\x0b") // loop br 0 end end

	wasm, err := interrupt.Instrument(spin)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := interrupt.Instantiate(ctx, rt); err != nil { // the host's side: Check
		fmt.Println(err)
		return
	}
	m, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err = m.ExportedFunction("spin").Call(ctx)
	fmt.Println(errors.Is(err, interrupt.ErrStopped), errors.Is(err, context.DeadlineExceeded))
	// Output: true true
}
