package iam

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/host/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The write guardrails. Every operation that writes a policy document
// (put_*_policy, create_policy, create_policy_version, create_role,
// update_assume_role_policy) and every attach of a managed policy asks the
// policy engine first, through the same validator validate_policy exposes:
//
//   - ERROR findings (IAM would refuse the document, or it is over its size
//     quota) refuse the write: better our sentence with the place than
//     IAM's MalformedPolicyDocument without one.
//   - SECURITY_WARNING findings (admin-equivalent, privilege escalation or
//     iam:PassRole on "*", Allow with NotResource/NotPrincipal, a trust
//     policy open to anyone or to another account without a condition)
//     refuse the write with RiskyPolicy, unless the operator started the
//     server with --allow-risky-policies; then they are the result's
//     warnings.
//   - WARNING findings (unknown actions, mismatched resources) never refuse:
//     the catalogue of actions ages, and IAM accepts them. They are warnings.
//
// A managed policy being attached is judged by its default version's
// document, whoever wrote it: AdministratorAccess is refused because it
// allows every action, PowerUserAccess because it allows sts:AssumeRole on
// every role, IAMFullAccess because IAM can grant anything; not because of
// their names.

// guardDocument checks a document before it is written. what names the
// write for messages ("inline policy P on user U"); reach says whom it
// applies to ("user U"). It returns the warnings for the result, or the refusal.
func (c *Catalogue) guardDocument(doc api.PolicyDocument, t policy.PolicyType, o policy.ValidateOptions, what, reach string) ([]string, error) {
	var errs, risky []string
	var warned []policy.Finding
	for _, f := range policy.ValidateWithOptions(doc.String(), t, o) {
		switch f.Severity {
		case policy.SeverityError:
			errs = append(errs, describeFinding(f))
		case policy.SeveritySecurityWarning:
			risky = append(risky, describeFinding(f))
		case policy.SeverityWarning:
			warned = append(warned, f)
		}
	}
	if len(errs) > 0 {
		return nil, api.Errorf(api.MalformedPolicyDocument, "IAM would refuse %s, so nothing was written: %s. Correct the document; validate_policy shows every finding with its place", what, strings.Join(errs, "; "))
	}
	warnings := summarizeWarnings(warned)
	if len(risky) > 0 {
		if !c.allowRisky {
			return nil, riskyRefusal(what, reach, risky)
		}
		warnings = append(riskyAllowed(reach, risky), warnings...)
	}
	return warnings, nil
}

// summarizeWarnings renders WARNING findings for a result, folding more
// than three of one code into one line, so that a policy naming fifty
// actions newer than the catalogue does not bury the rest.
func summarizeWarnings(fs []policy.Finding) []string {
	byCode := map[string][]policy.Finding{}
	var order []string
	for _, f := range fs {
		if byCode[f.Code] == nil {
			order = append(order, f.Code)
		}
		byCode[f.Code] = append(byCode[f.Code], f)
	}
	var out []string
	for _, code := range order {
		group := byCode[code]
		if len(group) <= 3 {
			for _, f := range group {
				out = append(out, describeFinding(f))
			}
			continue
		}
		values := make([]string, 0, 3)
		for _, f := range group[:3] {
			values = append(values, f.Value)
		}
		out = append(out, fmt.Sprintf("%d findings %s, for %s and %d more; the first: %s (validate_policy lists them all)",
			len(group), code, strings.Join(values, ", "), len(group)-3, describeFinding(group[0])))
	}
	return out
}

// guardAttach checks the default version of a managed policy before it is
// attached. Only its risks count: AWS's own policies are over customer
// quotas and may name actions newer than the catalogue.
func (c *Catalogue) guardAttach(ctx context.Context, policyARN, reach string) ([]string, error) {
	v, err := c.policyVersion(ctx, policyARN, "")
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err // the attach would fail the same way
		}
		e := asAPIError(err)
		if c.allowRisky {
			return []string{"could not read the policy's default version to check what it grants (" + e.Message + "); it was attached unchecked because of --allow-risky-policies. Review it with get_managed_policy_document"}, nil
		}
		return nil, api.Errorf(e.Code, "could not read the default version of %s to check what it grants (%s), so nothing was attached. Give the server's credentials iam:GetPolicy and iam:GetPolicyVersion, or have the operator start the server with --allow-risky-policies to attach without this check", policyARN, e.Message)
	}
	var risky []string
	doc := decodeDocument(v.Document)
	for _, f := range policy.ValidateWithOptions(doc.String(), policy.IdentityPolicy, policy.ValidateOptions{SizeLimit: -1, Inline: true}) {
		if f.Severity == policy.SeveritySecurityWarning {
			risky = append(risky, describeFinding(f))
		}
	}
	if len(risky) == 0 {
		return nil, nil
	}
	what := policyARN + " (version " + str(v.VersionId) + ")"
	if !c.allowRisky {
		return nil, riskyRefusal("attaching "+what, reach, risky)
	}
	return riskyAllowed(reach, risky), nil
}

func riskyRefusal(what, reach string, risky []string) error {
	return api.Errorf(api.RiskyPolicy, "refused %s, which would apply to %s: %s. Nothing was written. Grant only what is needed (validate_policy checks a draft); if this grant is intended, the operator can restart the server with --allow-risky-policies",
		what, reach, strings.Join(risky, "; "))
}

func riskyAllowed(reach string, risky []string) []string {
	out := make([]string, 0, len(risky))
	for _, r := range risky {
		out = append(out, "written because of --allow-risky-policies, but risky for "+reach+": "+r)
	}
	return out
}

// describeFinding renders a finding with its place, for messages.
func describeFinding(f policy.Finding) string {
	var where []string
	if f.Statement >= 0 {
		s := fmt.Sprintf("statement %d", f.Statement)
		if f.Sid != "" {
			s += fmt.Sprintf(" (Sid %q)", f.Sid)
		}
		where = append(where, s)
	}
	if f.Field != "" {
		where = append(where, f.Field)
	}
	loc := ""
	if len(where) > 0 {
		loc = " at " + strings.Join(where, ", ")
	}
	return fmt.Sprintf("[%s %s%s] %s", f.Severity, f.Code, loc, strings.TrimSuffix(f.Message, "."))
}

// The validation options of the writes. Sizes are left to IAM
// (SizeLimit -1): the inline quotas count all of a principal's inline
// policies together and the trust quota can be raised, which only IAM
// knows, and its LimitExceeded is answered by sizeError with the numbers.
var (
	managedPolicyOptions = policy.ValidateOptions{SizeLimit: -1}
	inlinePolicyOptions  = policy.ValidateOptions{SizeLimit: -1, Inline: true}
)

// trustOptions are those of a role's trust policy in account.
func trustOptions(account string) policy.ValidateOptions {
	return policy.ValidateOptions{SizeLimit: -1, Account: account}
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
