package review

import (
	"testing"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// The organisation review on the sandbox's `org` seed, through the real
// gate, catalogue, STS AssumeRole into each member and Organizations
// (hostiamtest): every planted problem found, the SCP-blocked escalation
// not confirmed, and the cost per account under ten calls.
func TestOrgSeedReview(t *testing.T) {
	h := hostiamtest.New(t, hostiamtest.Options{Seed: "org", Plugin: "access-review", Grants: Operations, ReadOnly: true})
	rep, err := Run(h, Input{Accounts: []string{"*"}, MinSeverity: "info", MaxFindingsPerRule: maxMaxFindingsPerRule}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkPlanted(t, rep)
	for _, a := range rep.Accounts {
		if a.Header.IAMCalls >= 10 {
			t.Errorf("account %s: %d IAM calls (%v)", a.AccountID, a.Header.IAMCalls, a.Header.IAMCallsByOp)
		}
		t.Logf("account %s (%s): %d IAM calls %v, %d findings", a.AccountID, a.Alias, a.Header.IAMCalls, a.Header.IAMCallsByOp, a.Summary.Total)
	}
	if n := rep.Header.IAMCallsByOp[opDescribeOrganization]; n != 1 {
		t.Errorf("describe_organization: %d calls", n)
	}
}

// The same review inside the Wasm plugin, on the real runtime: the guest
// SDK carries each request's account through iam_batch, and the plugin
// finds the same problems.
func TestWasmOrgSeedReview(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.New(sandbox.Options{Seed: "org"})
	if err != nil {
		t.Fatal(err)
	}
	h := loadPlugin(t, sb, 0)
	rep, _, progress := callReview(t, h, `{"accounts":["*"],"min_severity":"info","max_findings_per_rule":500}`)
	checkPlanted(t, rep)
	for i := 1; i < len(progress); i++ {
		if progress[i].Progress <= progress[i-1].Progress {
			t.Fatalf("progress went back: %+v then %+v", progress[i-1], progress[i])
		}
	}
}
