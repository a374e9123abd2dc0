package catalogue

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func init() {
	implement("describe_organization", describeOrganization)
}

// What describe_organization gathers at most. The largest organizations
// have a few thousand accounts; an answer beyond these would not fit an
// assistant's context anyway, so it is refused rather than grown without
// bound (memory, calls, and a reply no one can read). Variables so that a
// test can lower them.
var (
	maxOrgAccounts = 1000
	maxOrgUnits    = 2000
	maxOrgPolicies = 1000
)

// describeOrganization reads the organization as its management account
// (or a delegated administrator) sees it: the roots, the OU tree walked
// from each root, the accounts of every parent, and every SCP with its
// document and targets. Every listing goes through the SDK's paginator.
func describeOrganization(ctx context.Context, c *Catalogue, _ *api.Empty) (*api.OrganizationOutput, error) {
	org := c.clients.Organizations
	if org == nil {
		return nil, api.Errorf(api.Internal, "describe_organization: the server was built without an Organizations client; please report this")
	}
	desc, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return nil, orgError(err)
	}
	if desc.Organization == nil {
		return nil, api.Errorf(api.ServiceFailure, "Organizations answered DescribeOrganization with no organization; try again")
	}
	out := &api.OrganizationOutput{
		ID:                  str(desc.Organization.Id),
		ManagementAccountID: str(desc.Organization.MasterAccountId),
		FeatureSet:          string(desc.Organization.FeatureSet),
		Roots:               []api.OrgUnit{},
		OrganizationalUnits: []api.OrgUnit{},
		Accounts:            []api.OrgAccount{},
		Policies:            []api.SCP{},
	}
	// Parents to visit, breadth first: the roots, then each OU found.
	var parents []string
	roots := organizations.NewListRootsPaginator(org, &organizations.ListRootsInput{})
	for roots.HasMorePages() {
		page, err := roots.NextPage(ctx)
		if err != nil {
			return nil, orgError(err)
		}
		for _, r := range page.Roots {
			out.Roots = append(out.Roots, api.OrgUnit{ID: str(r.Id), Name: str(r.Name)})
			parents = append(parents, str(r.Id))
			if slices.ContainsFunc(r.PolicyTypes, func(p orgtypes.PolicyTypeSummary) bool {
				return p.Type == orgtypes.PolicyTypeServiceControlPolicy && p.Status == orgtypes.PolicyTypeStatusEnabled
			}) {
				out.SCPsEnabled = true
			}
		}
	}
	for i := 0; i < len(parents); i++ {
		parent := parents[i]
		ous := organizations.NewListOrganizationalUnitsForParentPaginator(org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: &parent})
		for ous.HasMorePages() {
			page, err := ous.NextPage(ctx)
			if err != nil {
				return nil, orgError(err)
			}
			for _, u := range page.OrganizationalUnits {
				if len(out.OrganizationalUnits) >= maxOrgUnits {
					return nil, tooBig("organizational units", maxOrgUnits)
				}
				out.OrganizationalUnits = append(out.OrganizationalUnits, api.OrgUnit{ID: str(u.Id), Name: str(u.Name), ParentID: parent})
				parents = append(parents, str(u.Id))
			}
		}
		accts := organizations.NewListAccountsForParentPaginator(org, &organizations.ListAccountsForParentInput{ParentId: &parent})
		for accts.HasMorePages() {
			page, err := accts.NextPage(ctx)
			if err != nil {
				return nil, orgError(err)
			}
			for _, a := range page.Accounts {
				if len(out.Accounts) >= maxOrgAccounts {
					return nil, tooBig("accounts", maxOrgAccounts)
				}
				out.Accounts = append(out.Accounts, orgAccount(a, parent))
			}
		}
	}
	// SCPs exist only with all features; listing them otherwise is an
	// error (PolicyTypeNotEnabled) with nothing to learn from it.
	if out.FeatureSet != string(orgtypes.OrganizationFeatureSetAll) {
		return out, nil
	}
	policies := organizations.NewListPoliciesPaginator(org, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy})
	for policies.HasMorePages() {
		page, err := policies.NextPage(ctx)
		if err != nil {
			return nil, orgError(err)
		}
		for _, p := range page.Policies {
			if len(out.Policies) >= maxOrgPolicies {
				return nil, tooBig("service control policies", maxOrgPolicies)
			}
			scp, err := describeSCP(ctx, org, p)
			if err != nil {
				return nil, err
			}
			out.Policies = append(out.Policies, scp)
		}
	}
	return out, nil
}

// describeSCP reads one SCP's document and where it is attached.
func describeSCP(ctx context.Context, org *organizations.Client, p orgtypes.PolicySummary) (api.SCP, error) {
	scp := api.SCP{ID: str(p.Id), Name: str(p.Name), ARN: str(p.Arn), AWSManaged: p.AwsManaged, Targets: []string{}}
	d, err := org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: p.Id})
	if err != nil {
		return scp, orgError(err)
	}
	if d.Policy != nil {
		scp.Document = str(d.Policy.Content)
	}
	// A policy attached to more targets than the organization has accounts
	// and OUs cannot be; the cap only guards a misbehaving endpoint.
	targets := organizations.NewListTargetsForPolicyPaginator(org, &organizations.ListTargetsForPolicyInput{PolicyId: p.Id})
	for targets.HasMorePages() {
		page, err := targets.NextPage(ctx)
		if err != nil {
			return scp, orgError(err)
		}
		for _, t := range page.Targets {
			if len(scp.Targets) >= maxOrgAccounts+maxOrgUnits {
				return scp, tooBig("targets of the SCP "+scp.Name, maxOrgAccounts+maxOrgUnits)
			}
			scp.Targets = append(scp.Targets, str(t.TargetId))
		}
	}
	return scp, nil
}

// orgAccount is one account as the organization lists it. Status is
// being replaced by State in the API; either says whether it is active.
func orgAccount(a orgtypes.Account, parent string) api.OrgAccount {
	status := string(a.Status)
	if status == "" {
		status = string(a.State)
	}
	return api.OrgAccount{ID: str(a.Id), Name: str(a.Name), Email: str(a.Email), Status: status, ParentID: parent}
}

func tooBig(what string, limit int) *api.Error {
	return api.Errorf(api.LimitExceeded, "the organization has more than %d %s, more than describe_organization gathers; read it with the AWS Organizations console or CLI instead", limit, what)
}

// orgError says what the two expected refusals mean for the person, and
// leaves every other error to asAPIError.
func orgError(err error) error {
	var se smithy.APIError
	if !errors.As(err, &se) {
		return err
	}
	switch se.ErrorCode() {
	case "AWSOrganizationsNotInUseException":
		return api.Errorf(api.NoSuchEntity, "this account is not in an AWS Organization (Organizations answered %s); describe_organization has nothing to describe here", se.ErrorCode())
	case "AccessDeniedException", "AccessDenied":
		return api.Errorf(api.AccessDenied, "Organizations refused %s: %s. Only the organization's management account (or a delegated administrator) can read the organization: run describe_organization with the account argument naming the management account, or give these credentials organizations:Describe*/List* there",
			opName(err), strings.TrimSuffix(se.ErrorMessage(), "."))
	}
	return err
}

// opName is the AWS operation an SDK error came from, for messages.
func opName(err error) string {
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return oe.Operation()
	}
	return "the call"
}
