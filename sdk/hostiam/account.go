package hostiam

import "github.com/iammcp/iam-mcp-server/sdk/api"

// In returns a Client whose Call, Batch and Consent run in account (an id
// or alias as Info's Accounts lists them) unless a request names its own;
// Progress and Info are c's. account "" returns c itself.
//
// Call goes through c's Batch as a batch of one, since Client.Call has no
// account: so c must honour Request.Account, as FromSDK's and hostiamtest's
// Clients do. A Client that ignores it (a fake written before accounts)
// would run the call in the server's own account; In is for Clients of a
// server that reaches several accounts.
func In(c Client, account string) Client {
	if account == "" {
		return c
	}
	return inAccount{c: c, account: account}
}

type inAccount struct {
	c       Client
	account string
}

func (a inAccount) Call(op string, in, out any) error {
	return a.c.Batch([]Request{{Op: op, In: in, Out: out, Account: a.account}})[0]
}

func (a inAccount) Batch(reqs []Request) []error {
	return a.c.Batch(a.own(reqs))
}

func (a inAccount) Progress(done, total float64, message string) { a.c.Progress(done, total, message) }

func (a inAccount) Info() (*api.HostInfo, error) { return a.c.Info() }

// Consent states the calls in the account, through c when it is a Planner.
func (a inAccount) Consent(summary string, calls []Request) error {
	return Consent(a.c, summary, a.own(calls))
}

// own returns reqs with the Client's account on every request that names
// none (a copy: the caller's slice is left as it was).
func (a inAccount) own(reqs []Request) []Request {
	out := make([]Request, len(reqs))
	for i, r := range reqs {
		if r.Account == "" {
			r.Account = a.account
		}
		out[i] = r
	}
	return out
}
