package review

import (
	"fmt"
	"strings"
	"testing"
)

// An organisation's report over budget lists fewer findings per account,
// the most severe first, and counts the rest as omitted: nothing found is
// lost from the counts, and the JSON fits.
func TestFitOrgReport(t *testing.T) {
	rep := &Report{}
	for a := 0; a < 6; a++ {
		ar := AccountReport{AccountID: fmt.Sprintf("10000000000%d", a), Findings: []Finding{}}
		ar.Omitted = []Omitted{{RuleID: "R1", Count: 3, Principals: []string{"x"}}}
		ar.Summary.ByRule = []RuleCount{{RuleID: "R1", Count: 203, Listed: 100}, {RuleID: "R2", Count: 100, Listed: 100}}
		for i := 0; i < 200; i++ {
			rule, sev := "R1", High
			if i >= 100 {
				rule, sev = "R2", Low
			}
			ar.Findings = append(ar.Findings, Finding{RuleID: rule, Severity: sev, Principal: fmt.Sprintf("arn:aws:iam::%s:user/u%d", ar.AccountID, i),
				Message: strings.Repeat("evidence ", 20)})
		}
		rep.Accounts = append(rep.Accounts, ar)
	}
	before := jsonSize(rep)
	budget := before / 4
	fitOrgReport(rep, budget)
	if got := jsonSize(rep); got > budget {
		t.Fatalf("%d bytes after fitting, budget %d (before %d)", got, budget, before)
	}
	for _, ar := range rep.Accounts {
		if len(ar.Findings) == 0 || len(ar.Findings) >= 200 {
			t.Fatalf("account %s lists %d findings", ar.AccountID, len(ar.Findings))
		}
		if ar.Findings[0].Principal != "arn:aws:iam::"+ar.AccountID+":user/u0" {
			t.Errorf("the most severe first finding was not kept: %s", ar.Findings[0].Principal)
		}
		omitted, listed := 0, 0
		for _, o := range ar.Omitted {
			omitted += o.Count
			if len(o.Principals) > maxOmittedNames {
				t.Errorf("omitted %s names %d principals", o.RuleID, len(o.Principals))
			}
		}
		for _, rc := range ar.Summary.ByRule {
			listed += rc.Listed
		}
		if omitted != 3+200-len(ar.Findings) || listed != len(ar.Findings) {
			t.Errorf("account %s: %d listed (summary %d), %d omitted", ar.AccountID, len(ar.Findings), listed, omitted)
		}
		if len(ar.Header.Notes) != 1 || !strings.Contains(ar.Header.Notes[0], ar.AccountID) {
			t.Errorf("no note says how to list them: %v", ar.Header.Notes)
		}
	}
	// Within budget, nothing changes.
	small := &Report{Accounts: []AccountReport{{AccountID: "1", Findings: []Finding{{RuleID: "R"}}}}}
	fitOrgReport(small, 1<<20)
	if len(small.Accounts[0].Findings) != 1 || small.Accounts[0].Header.Notes != nil {
		t.Errorf("a report within budget changed: %+v", small.Accounts[0])
	}
}
