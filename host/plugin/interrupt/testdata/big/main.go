// Command big is a large Go program for BenchmarkInstrument: a plugin
// that carries the AWS SDK's IAM client and much of the standard library
// is the largest module an operator is likely to load.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"go/types"
	"net/http"
	"os"
	"regexp"
	"text/template"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	client := iam.New(iam.Options{Region: "us-east-1", HTTPClient: http.DefaultClient})
	stsClient := sts.New(sts.Options{Region: "us-east-1"})
	_, err := client.ListUsers(context.Background(), &iam.ListUsersInput{MaxItems: aws.Int32(1)})
	_, err2 := stsClient.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	fset := token.NewFileSet()
	f, _ := parser.ParseFile(fset, "x.go", "package x; var X = 1", 0)
	conf := types.Config{}
	_, err3 := conf.Check("x", fset, nil, nil)
	_ = f
	t := template.Must(template.New("x").Parse("{{.}}"))
	_ = t.Execute(os.Stdout, regexp.MustCompile(`a+`).String())
	b, _ := json.Marshal(map[string]any{"err": fmt.Sprint(err, err2, err3)})
	fmt.Println(string(b))
}
