package interrupt

import (
	"context"
	"errors"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// ErrStopped is wrapped by the error a call of an instrumented module
// ends with when Check stopped it; so is the cause of its context's end
// (context.DeadlineExceeded for a timeout, context.Canceled or the
// cause given to the cancel function).
var ErrStopped = errors.New("stopped: its call's context is done")

// Check is the host side of ModuleName.FieldName, the function an
// instrumented module calls every Budget loop iterations and calls, with
// the context of the call it runs in (wazero hands a host function the
// context given to api.Function.Call or to the instantiation; Extism,
// the one given to Plugin.CallWithContext). While ctx is live it returns
// at once: the trip to Go was the point (see the package documentation).
// Once ctx is done it panics with an error wrapping ErrStopped and the
// context's cause, which wazero recovers at the call's boundary and
// returns as the call's error, as it does with WASI's proc_exit: the
// module stops there, and the instance should be closed rather than
// reused (its guest's state is wherever the check found it).
//
// For Extism, Check is the whole of a host function with no parameters
// and no results in the namespace ModuleName:
//
//	f := extism.NewHostFunctionWithStack(interrupt.FieldName,
//		func(ctx context.Context, _ *extism.CurrentPlugin, _ []uint64) { interrupt.Check(ctx) }, nil, nil)
//	f.SetNamespace(interrupt.ModuleName)
func Check(ctx context.Context) {
	if ctx.Err() != nil {
		panic(&stoppedError{cause: context.Cause(ctx)})
	}
}

type stoppedError struct{ cause error }

func (e *stoppedError) Error() string {
	return "the module was stopped at a loop or call: " + e.cause.Error()
}

func (e *stoppedError) Unwrap() []error { return []error{ErrStopped, e.cause} }

// Instantiate adds the host module ModuleName, whose FieldName is Check,
// to rt, for instrumented modules run with wazero directly. A runtime
// holds one of it for all its modules: Check reads each call's own
// context.
func Instantiate(ctx context.Context, rt wazero.Runtime) (api.Module, error) {
	return rt.NewHostModuleBuilder(ModuleName).
		NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(ctx context.Context, _ []uint64) { Check(ctx) }), nil, nil).
		Export(FieldName).
		Instantiate(ctx)
}
