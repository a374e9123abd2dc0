package policy_test

import (
	"fmt"

	"github.com/iammcp/iam-mcp-server/policy"
)

// A user may read their own folder of a bucket, and a boundary keeps them
// to read-only S3. SimulatePrincipalPolicy's answer is built from the Result.
func ExampleEvaluate() {
	identity, err := policy.Parse(`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "OwnFolder",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Resource": "arn:aws:s3:::home/${aws:username}/*"
    }
  ]
}`)
	if err != nil {
		panic(err)
	}
	boundary, err := policy.Parse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}`)
	if err != nil {
		panic(err)
	}
	in := policy.Input{
		Identity:   []policy.Source{{ID: "home-folder", Type: "user", Doc: identity}},
		Boundaries: []policy.Source{{ID: "arn:aws:iam::123456789012:policy/ReadOnly", Type: "user-managed", Doc: boundary}},
	}
	for _, action := range []string{"s3:GetObject", "s3:PutObject"} {
		res := policy.Evaluate(in, policy.Request{
			Action:   action,
			Resource: "arn:aws:s3:::home/alice/notes.txt",
			Context:  map[string][]string{"aws:username": {"alice"}},
		})
		fmt.Printf("%s: %s (boundary allows: %v)\n", action, res.Decision, *res.BoundaryAllowed)
		for _, m := range res.Matched {
			fmt.Printf("  %s statement %d %q %s, lines %d-%d\n", m.SourceID, m.Index, m.Sid, m.Effect, m.Start.Line, m.End.Line)
		}
	}

	// Without aws:username the variable cannot be resolved: nothing matches,
	// and the simulator reports the key as missing.
	res := policy.Evaluate(in, policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/alice/notes.txt"})
	fmt.Println(res.Decision, res.MissingContextKeys)

	// Output:
	// s3:GetObject: allowed (boundary allows: true)
	//   home-folder statement 0 "OwnFolder" Allow, lines 4-9
	//   arn:aws:iam::123456789012:policy/ReadOnly statement 0 "" Allow, lines 1-1
	// s3:PutObject: implicitDeny (boundary allows: false)
	//   home-folder statement 0 "OwnFolder" Allow, lines 4-9
	// implicitDeny [aws:username]
}

// CheckIAM answers with IAM's own MalformedPolicyDocument message.
func ExampleCheckIAM() {
	err := policy.CheckIAM(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject"}}`, policy.Identity)
	fmt.Println(err)
	err = policy.CheckIAM(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}`, policy.Trust)
	fmt.Println(err)
	// Output:
	// Policy statement must contain resources.
	// <nil>
}
