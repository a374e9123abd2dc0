package review

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// FuzzOrganization feeds the organisation review what comes from outside
// it: the accounts argument, resolved against what host_info offers, and
// describe_organization's answer, walked for each account's SCP levels
// (cycles, dangling parents, unparsable SCPs) and asked a decision. None
// may panic or loop; a resolved name must be one offered.
func FuzzOrganization(f *testing.F) {
	seed, _ := json.Marshal(orgOutput())
	f.Add(string(seed), "*")
	f.Add(string(seed), "acme-dev,444444444444")
	f.Add(`{"management_account_id":"1","accounts":[{"id":"2","parent_id":"ou"}],"organizational_units":[{"id":"ou","parent_id":"ou"}],"scps_enabled":true,"service_control_policies":[{"name":"x","document":"{","targets":["ou","2"]}]}`, "2")
	f.Add(`{}`, ",,")
	f.Fuzz(func(t *testing.T, orgJSON, names string) {
		var org api.OrganizationOutput
		if json.Unmarshal([]byte(orgJSON), &org) != nil {
			return
		}
		var offered []api.ReachableAccount
		for _, a := range org.Accounts {
			offered = append(offered, api.ReachableAccount{ID: a.ID, Alias: a.Name})
		}
		accts, err := parseAccounts(strings.Split(names, ","), offered)
		if err == nil {
			for _, a := range accts {
				ok := false
				for _, o := range offered {
					ok = ok || o.ID == a.ra.ID
				}
				if !ok {
					t.Fatalf("%q resolved to %q, which is not offered", names, a.ra.ID)
				}
			}
		}
		tree := newOrgTree(&org)
		e := newEngine()
		for _, a := range org.Accounts {
			levels, _, _ := tree.levels(a.ID, e)
			if len(levels) > maxOrgDepth+1 {
				t.Fatalf("%d levels", len(levels))
			}
			newSCPGate(levels).allows(rdStrict, "iam:CreatePolicyVersion", "*", nil)
		}
	})
}
