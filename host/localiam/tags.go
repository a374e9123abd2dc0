package localiam

import (
	"sort"
	"strings"
)

// mergeTags applies TagX semantics: new keys are added, existing keys
// (compared case-insensitively) take the new value; at most 50 tags.
func mergeTags(cur, add []Tag) ([]Tag, *Error) {
	out := append([]Tag(nil), cur...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i].Value = t.Value
				replaced = true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > 50 {
		return nil, errLimitExceeded("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

// removeTags applies UntagX semantics: listed keys are removed, unknown keys
// are ignored as IAM ignores them.
func removeTags(cur []Tag, keys []string) []Tag {
	var out []Tag
	for _, t := range cur {
		drop := false
		for _, k := range keys {
			if strings.EqualFold(t.Key, k) {
				drop = true
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// tagsPage is the result of every ListXTags action.
func tagsPage(tags []Tag, p params) (any, *Error) {
	pg, err := readPage(p)
	if err != nil {
		return nil, err
	}
	indexed := make([]Tag, len(tags))
	copy(indexed, tags)
	sort.Slice(indexed, func(i, j int) bool { return strings.ToLower(indexed[i].Key) < strings.ToLower(indexed[j].Key) })
	out, truncated, marker, err := paginate(indexed, func(t Tag) string { return strings.ToLower(t.Key) }, pg)
	if err != nil {
		return nil, err
	}
	return struct {
		Tags        members[Tag] `xml:"Tags"`
		IsTruncated bool         `xml:"IsTruncated"`
		Marker      string       `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}
