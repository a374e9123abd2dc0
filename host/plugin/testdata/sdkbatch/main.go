//go:build wasip1

// Command sdkbatch is a test plugin written with the project's SDK, for
// what only the SDK does: a batch longer than api.MaxBatchRequests goes to
// the host in chunks, each answered in order.
package main

import (
	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Args says how many get_user requests to send in one sdk.Batch.
type Args struct {
	N int `json:"n"`
}

func init() {
	sdk.Plugin("sdkbatch", "0.1.0", "Sends one long sdk.Batch")
	sdk.Tool("many", "Sends n get_user requests in one sdk.Batch and counts the answers by error code.", many, sdk.OpGetUser)
}

func main() {}

func many(_ *sdk.Context, in Args) (any, error) {
	reqs := make([]sdk.Request, in.N)
	for i := range reqs {
		reqs[i] = sdk.Request{Op: sdk.OpGetUser, Args: api.UserNameInput{UserName: "no.such.user"}}
	}
	codes := map[string]int{}
	answers := 0
	for _, r := range sdk.Batch(reqs...) {
		answers++
		code := "ok"
		if r.Err != nil {
			code = string(api.Internal)
			if e, ok := r.Err.(*api.Error); ok {
				code = string(e.Code)
			}
		}
		codes[code]++
	}
	return map[string]any{"answers": answers, "codes": codes}, nil
}
