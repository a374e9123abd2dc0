package catalogue

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func init() {
	implement("get_account_info", getAccountInfo)
}

// getAccountInfo asks STS afresh rather than reading Account's cache: the
// caller's ARN is the point of the question, and it is also the cheapest
// proof that the credentials still work.
func getAccountInfo(ctx context.Context, c *Catalogue, _ *api.Empty) (*api.AccountInfoOutput, error) {
	id, err := c.clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, err
	}
	res := &api.AccountInfoOutput{AccountID: str(id.Account), CallerArn: str(id.Arn), Partition: partitionOf(str(id.Arn))}
	// Fill Account's cache as it would have, both fields from one answer;
	// the first answer stays, as Account promises.
	c.accountMu.Lock()
	if c.account == "" {
		c.account, c.callerARN = res.AccountID, res.CallerArn
	}
	c.accountMu.Unlock()
	aliases, err := c.clients.IAM.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err != nil {
		return nil, err
	}
	// An account has at most one alias.
	if len(aliases.AccountAliases) > 0 {
		res.AccountAlias = aliases.AccountAliases[0]
	}
	// The list is the server's, the same whichever account this catalogue
	// acts in; only more than the server's own account is worth listing.
	if c.accounts != nil {
		if all := c.accounts(); len(all) > 1 {
			res.Accounts = all
		}
	}
	return res, nil
}

// partitionOf reads the partition (aws, aws-cn, aws-us-gov) from an ARN's
// second field. STS always returns a full ARN; "aws" stands in for one that
// is not.
func partitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}
