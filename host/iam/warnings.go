package iam

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/host/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Warnings on risky writes. They do not refuse anything (the policy engine
// issue turns the first two into refusals); they tell the assistant what a
// careful administrator would point out.

// adminPolicyARNs are AWS managed policies that grant administrator access
// or the power to obtain it.
var adminPolicyARNs = map[string]bool{
	"arn:aws:iam::aws:policy/AdministratorAccess": true,
	"arn:aws:iam::aws:policy/IAMFullAccess":       true,
}

// adminEquivalent reports whether a policy document allows everything, or
// everything in IAM (which lets a principal grant itself everything), on
// every resource without conditions.
func adminEquivalent(doc api.PolicyDocument) bool {
	d, err := policy.Parse(doc.String())
	if err != nil {
		return false
	}
	for _, st := range d.Statements {
		if st.Effect != "Allow" || len(st.Condition) > 0 || !contains(st.Resource, "*") {
			continue
		}
		for _, a := range st.Action {
			switch strings.ToLower(a) {
			case "*", "*:*", "iam:*":
				return true
			}
		}
	}
	return false
}

// adminWarning is the warning for granting administrator access.
func adminWarning(target string) string {
	return "this grants " + target + " administrator-equivalent access (every action, or every IAM action, on every resource); prefer a narrower policy"
}

// trustWarnings inspects a trust policy: open to everyone, or to another
// account without a condition (the confused-deputy risk an sts:ExternalId
// condition prevents).
func trustWarnings(doc api.PolicyDocument, account string) []string {
	d, err := policy.Parse(doc.String())
	if err != nil {
		return nil
	}
	var out []string
	for _, st := range d.Statements {
		if st.Effect != "Allow" || st.Principal == nil {
			continue
		}
		if st.Principal.Wildcard || contains(st.Principal.Values["AWS"], "*") {
			if len(st.Condition) == 0 {
				out = append(out, "the trust policy lets any AWS principal in any account assume this role; name the principals that need it")
			} else {
				out = append(out, "the trust policy's principal is *, limited only by its conditions; check they restrict it to who you mean")
			}
			continue
		}
		for _, p := range st.Principal.Values["AWS"] {
			if acct := accountOf(p); acct != "" && acct != account && len(st.Condition) == 0 {
				out = append(out, "the trust policy lets account "+acct+" assume this role with no condition; for a third party, require an sts:ExternalId")
			}
		}
	}
	return out
}

// accountOf returns the account id of an AWS principal (an id or an ARN).
func accountOf(p string) string {
	if len(p) == 12 && strings.Trim(p, "0123456789") == "" {
		return p
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		return parts[4]
	}
	return ""
}

const noBoundaryWarning = "the role has no permissions boundary; if your organisation uses boundaries, set one with put_role_permissions_boundary"

// policyVersion reads one version of a managed policy, or its default
// version when versionID is "" (IAM has no call for "the default version":
// GetPolicy names it first).
func (c *Catalogue) policyVersion(ctx context.Context, policyARN, versionID string) (*types.PolicyVersion, error) {
	if versionID == "" {
		p, err := c.clients.IAM.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(policyARN)})
		if err != nil {
			return nil, err
		}
		versionID = str(p.Policy.DefaultVersionId)
	}
	v, err := c.clients.IAM.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(policyARN), VersionId: aws.String(versionID)})
	if err != nil {
		return nil, err
	}
	return v.PolicyVersion, nil
}

// attachWarnings is what to tell the assistant after attaching a managed
// policy to target (e.g. "user alice"): AWS policies are judged by their
// ARN, customer policies by their default version's document. It runs after
// the attach succeeded, so a failure to read the document becomes a warning
// rather than an error. Operations that call it list iam:GetPolicy and
// iam:GetPolicyVersion among their IAMActions.
func (c *Catalogue) attachWarnings(ctx context.Context, policyARN, target string) []string {
	if parts := strings.SplitN(policyARN, ":", 6); len(parts) == 6 && parts[4] == "aws" {
		// Compare across partitions (aws-cn, aws-us-gov) by the ARN's tail.
		if adminPolicyARNs["arn:aws:iam::aws:"+parts[5]] {
			return []string{adminWarning(target)}
		}
		return nil
	}
	v, err := c.policyVersion(ctx, policyARN, "")
	if err != nil {
		return []string{"could not read the policy's default version to check what it grants (" + asAPIError(err).Message + "); review it with get_managed_policy_document"}
	}
	if adminEquivalent(decodeDocument(v.Document)) {
		return []string{adminWarning(target)}
	}
	return nil
}
