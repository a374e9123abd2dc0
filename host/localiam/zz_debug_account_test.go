package localiam

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestAccountZZDebug(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	authFixture(t, c)
	first := must[*iam.GetAccountAuthorizationDetailsOutput](t)(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(2)}))
	t.Logf("marker %q", *first.Marker)
	st, body := post(t, sb.url, url.Values{"Action": {"GetAccountAuthorizationDetails"}, "Version": {"2010-05-08"}, "MaxItems": {"2"}, "Marker": {*first.Marker}})
	t.Logf("%d %s", st, body)
	_, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(2), Marker: first.Marker})
	t.Log(err)
}
