package review

import (
	"encoding/json"
	"fmt"
	"sort"
)

// orgJSONBudget bounds an organisation review's structured report. The
// host refuses a tool result over 8 MiB, and the result carries the
// Markdown twice (as text, and in the structured report): fifty accounts
// listing max_findings_per_rule findings of every rule came to 17 MB
// (BenchmarkOrgAccessReview). Within 4 MiB of JSON, and the Markdown's
// own budget, the answer fits.
const orgJSONBudget = 4 << 20

// fitOrgReport lists fewer findings per account, the most severe kept
// (each account's findings are sorted so), until the report's JSON is
// within budget bytes; what it leaves out is counted in the account's
// omitted, its principals named as max_findings_per_rule's are, and a
// note says how to list it all. The totals and summaries are left as
// they are: they count every finding.
func fitOrgReport(rep *Report, budget int) {
	total := jsonSize(rep)
	if total <= budget {
		return
	}
	// Each listed finding's share of the JSON, and the rest.
	sizes := make([][]int, len(rep.Accounts))
	listedBytes, most := 0, 0
	for i := range rep.Accounts {
		fs := rep.Accounts[i].Findings
		sizes[i] = make([]int, len(fs))
		for j := range fs {
			sizes[i][j] = jsonSize(&fs[j]) + 1 // and its comma
			listedBytes += sizes[i][j]
		}
		most = max(most, len(fs))
	}
	rest := total - listedBytes
	bytesFor := func(keep int) int {
		n := rest
		for i := range sizes {
			for _, s := range sizes[i][:min(keep, len(sizes[i]))] {
				n += s
			}
		}
		return n
	}
	// The most findings per account that fit; what moves to omitted
	// costs a little too, so aim at nine tenths of the budget.
	keep := sort.Search(most+1, func(k int) bool { return bytesFor(k) > budget*9/10 }) - 1
	keep = max(keep, 0)
	for i := range rep.Accounts {
		trimFindings(&rep.Accounts[i], keep)
	}
}

// trimFindings keeps an account's first keep findings and counts the
// rest as omitted.
func trimFindings(ar *AccountReport, keep int) {
	if len(ar.Findings) <= keep {
		return
	}
	cut := ar.Findings[keep:]
	ar.Findings = ar.Findings[:keep:keep]
	// Existing entries are counted in place; new ones are appended once
	// every finding is counted, so the pointers stay good.
	byRule := map[string]*Omitted{}
	for i := range ar.Omitted {
		byRule[ar.Omitted[i].RuleID] = &ar.Omitted[i]
	}
	var fresh []*Omitted
	listed := map[string]int{}
	for _, f := range cut {
		listed[f.RuleID]++
		o := byRule[f.RuleID]
		if o == nil {
			o = &Omitted{RuleID: f.RuleID}
			byRule[f.RuleID] = o
			fresh = append(fresh, o)
		}
		o.Count++
		if len(o.Principals) < maxOmittedNames {
			o.Principals = append(o.Principals, f.Principal)
		}
	}
	for _, o := range fresh {
		ar.Omitted = append(ar.Omitted, *o)
	}
	for k := range ar.Summary.ByRule {
		ar.Summary.ByRule[k].Listed -= listed[ar.Summary.ByRule[k].RuleID]
	}
	ar.Header.Notes = append(ar.Header.Notes, fmt.Sprintf(
		"%d findings of this account are counted in omitted and not listed, so that the organisation's report stays within what an MCP result carries; review this account alone (accounts: [%q]) to list them", len(cut), ar.AccountID))
}

// jsonSize is the length of v's JSON.
func jsonSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}
