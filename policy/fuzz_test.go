package policy

import (
	"strings"
	"testing"
)

// FuzzPolicy feeds arbitrary text to every entry point: none may panic, and
// every parsed statement's positions must delimit a '{' … '}' in the text.
// The guardrail decision rule (Validate's risk findings, Risks with a
// boundary, TrustRisks) runs on every parsed document too. `go test` runs
// the seeds and testdata/fuzz/FuzzPolicy; `go test -fuzz FuzzPolicy`
// explores further.
func FuzzPolicy(f *testing.F) {
	seeds := []string{
		``, `{}`, `[]`, `null`, `{"Statement":[]}`,
		stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}`),
		stmt(`[{"Sid":"a","Effect":"Deny","NotAction":["iam:*"],"NotResource":"*","Condition":{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["x*",1,true]}}}]`),
		"{\n \"Statement\": {\"Effect\": \"Allow\", \"Principal\": {\"AWS\": [\"123456789012\"]}, \"Action\": \"sts:AssumeRole\"}\n}",
		stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2016-12-13t2:00:00.593194+23"},"IpAddress":{"aws:SourceIp":"::ffff:10.0.0.0/104"}}}`),
		stmt(`{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/${aws:UserAgent, '*'}","Condition":{"StringLike":{"iam:PassedToService":"*"},"ForAllValues:StringEquals":{"aws:TagKeys":[]}}}`),
		stmt(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"*repo:?*/*"}}}`),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, k := range []Kind{Identity, Trust, Boundary, Resource} {
			_ = CheckIAM(doc, k)
		}
		_ = CheckManagedPolicy(doc, Identity)
		_ = Size(doc)
		d, err := Parse(doc)
		if err != nil {
			return
		}
		lines := strings.SplitAfter(doc, "\n")
		for _, st := range d.Statements {
			if st.Start.Line < 1 || st.Start.Line > len(lines) || st.End.Line < st.Start.Line {
				t.Fatalf("statement %d: bad positions %v %v", st.Index, st.Start, st.End)
			}
			startLine := []rune(lines[st.Start.Line-1])
			endLine := []rune(lines[st.End.Line-1])
			if st.Start.Column < 1 || st.Start.Column > len(startLine) || startLine[st.Start.Column-1] != '{' {
				t.Fatalf("statement %d: Start %v is not at a '{'", st.Index, st.Start)
			}
			if st.End.Column < 2 || st.End.Column-1 > len(endLine) || endLine[st.End.Column-2] != '}' {
				t.Fatalf("statement %d: End %v is not just after a '}'", st.Index, st.End)
			}
		}
		for _, typ := range []PolicyType{IdentityPolicy, TrustPolicy} {
			for _, f := range ValidateWithOptions(doc, typ, ValidateOptions{Account: "123456789012"}) {
				if f.Severity == "" || f.Code == "" || f.Message == "" {
					t.Fatalf("empty finding %+v", f)
				}
			}
		}
		_ = Risks(Input{Identity: []Source{{ID: "f", Doc: d}}, Boundaries: []Source{{ID: "b", Doc: d}}}, RiskOptions{})
		_ = TrustRisks(d, "")
		_, _ = AdminEquivalent(d)
		in := Input{Identity: []Source{{ID: "f", Doc: d}}, Boundaries: []Source{{ID: "b", Doc: d}}}
		for _, res := range []string{"*", "arn:aws:s3:::b/alice/x"} {
			Evaluate(in, Request{Action: "s3:GetObject", Resource: res, Context: map[string][]string{
				"aws:username": {"alice"}, "aws:TagKeys": {"x1", "y"}, "aws:CurrentTime": {"2020-01-01T00:00:00Z"}, "aws:SourceIp": {"10.1.1.1"},
			}})
		}
	})
}
