package policy_test

import (
	"fmt"

	"github.com/iammcp/iam-mcp-server/policy"
)

// A key in account 111122223333 lets a user of account 444455556666 decrypt;
// across accounts, that user's own policies must allow it too.
func ExampleEvaluate_crossAccount() {
	keyPolicy, _ := policy.Parse(`{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow",
		"Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	userPolicy, _ := policy.Parse(`{"Version":"2012-10-17","Statement":[{"Sid":"UseKeys","Effect":"Allow",
		"Action":"kms:Decrypt","Resource":"arn:aws:kms:*:111122223333:key/*"}]}`)
	req := policy.Request{
		Principal: "arn:aws:iam::444455556666:user/bob",
		Action:    "kms:Decrypt",
		Resource:  "arn:aws:kms:eu-west-1:111122223333:key/1",
	}
	resource := []policy.Source{{ID: "key-policy", Type: "resource", Doc: keyPolicy}}

	r := policy.Evaluate(policy.Input{Resource: resource}, req)
	fmt.Println(r.Decision, "-", r.Reason)

	r = policy.Evaluate(policy.Input{
		Identity: []policy.Source{{ID: "kms-use", Type: "user", Doc: userPolicy}},
		Resource: resource,
	}, req)
	fmt.Println(r.Decision, "-", r.Reason)
	// Output:
	// implicitDeny - implicitly denied: cross-account request (principal account 444455556666, resource account 111122223333) needs an identity-based allow as well as a resource-based one; statement 'Partner' (index 0) of resource-based policy key-policy allows it, but no identity-based policy allows kms:Decrypt on arn:aws:kms:eu-west-1:111122223333:key/1
	// allowed - allowed across accounts by statement 'UseKeys' (index 0) of inline policy kms-use and statement 'Partner' (index 0) of resource-based policy key-policy
}
