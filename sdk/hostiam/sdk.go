//go:build wasip1

package hostiam

import (
	"encoding/json"

	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// FromSDK is the Client of a running plugin tool call.
func FromSDK(ctx *sdk.Context) Client { return sdkClient{ctx} }

type sdkClient struct{ ctx *sdk.Context }

func (h sdkClient) Call(op string, in, out any) error {
	raw, err := sdk.Call[json.RawMessage](op, in)
	if err != nil {
		return err
	}
	return decodeInto(op, *raw, out)
}

func (h sdkClient) Batch(reqs []Request) []error {
	wire := make([]sdk.Request, len(reqs))
	for i, r := range reqs {
		wire[i] = sdk.Request{Op: r.Op, Args: r.In, Account: r.Account}
	}
	errs := make([]error, len(reqs))
	for i, resp := range sdk.Batch(wire...) {
		if resp.Err != nil {
			errs[i] = resp.Err
			continue
		}
		errs[i] = decodeInto(reqs[i].Op, resp.Result, reqs[i].Out)
	}
	return errs
}

func (h sdkClient) Progress(done, total float64, message string) {
	h.ctx.Progress(done, total, message)
}

func (h sdkClient) Info() (*api.HostInfo, error) { return sdk.HostInfo() }

func (h sdkClient) Consent(summary string, calls []Request) error {
	wire := make([]sdk.Request, len(calls))
	for i, c := range calls {
		wire[i] = sdk.Request{Op: c.Op, Args: c.In, Account: c.Account}
	}
	_, err := sdk.Consent(summary, wire...)
	return err
}

func (h sdkClient) Seal(data string) (string, error) { return sdk.Seal(data) }

func (h sdkClient) RemoveSecretFile(accessKeyID string) (string, string, error) {
	a, err := sdk.RemoveSecretFile(accessKeyID)
	if err != nil {
		return "", "", err
	}
	return a.Removed, a.Note, nil
}

func decodeInto(op string, raw json.RawMessage, out any) error {
	if out == nil {
		return nil // the caller wants only the outcome
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &api.Error{Code: api.Internal, Message: op + ": the host's result does not decode: " + err.Error()}
	}
	return nil
}
