package rotation

import (
	"reflect"
	"testing"
)

// FuzzParseState: the state tag is outside input — anyone allowed
// iam:TagUser writes it. Whatever it says, ParseState never panics, its
// refusals stay short, and what it accepts is exactly what Encode would
// write back (so a state the plugin reads is one it could have written).
func FuzzParseState(f *testing.F) {
	for _, seed := range []string{
		"v=2/s=creating/b=20250601T120000Z/q=24",
		"v=2/s=creating/b=20250601T120000Z/q=30/o=cloudformation:eu-west-1",
		"v=2/s=created/n=AKIANEWKEY0000000001/c=20250601T120000Z/f=20250601T130000Z/q=24/o=s3:us-east-1@n+sqs:us-east-1",
		"v=2/s=cutover/n=AKIANEWKEY0000000001/c=20250601T120000Z/f=20250601T130000Z/u=20250602T130000Z/q=24",
		"v=2/s=deactivated/n=AKIANEWKEY0000000001/c=20250601T120000Z/f=20250601T130000Z/r=20250603T130000Z/u=20250604T130000Z/d=20250604T140000Z/g=7/q=24",
		"v=2/s=retiring/d=20250601T120000Z/g=0",
		"v=1/s=deactivated/n=AKIANEWKEY0000000001/d=20250601T120000Z",
		"v=2/s=created/n=AKIANEWKEY0000000001/c=20250631T120000Z/q=24",
		"v=2//s=created",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		st, err := ParseState(v)
		if err != nil {
			if len(err.Error()) > 600 {
				t.Fatalf("a %d-character refusal of a %d-character value", len(err.Error()), len(v))
			}
			return
		}
		enc, err := st.Encode()
		if err != nil {
			t.Fatalf("ParseState(%q) accepted a state Encode refuses: %v", v, err)
		}
		if len(enc) > MaxTagValue || !tagValueChars.MatchString(enc) {
			t.Fatalf("Encode wrote %q", enc)
		}
		back, err := ParseState(enc)
		if err != nil || !reflect.DeepEqual(back, st) {
			t.Fatalf("%q → %+v → %q → %+v, %v", v, st, enc, back, err)
		}
	})
}
