package sandbox

import (
	"sort"
	"strings"
	"unicode/utf8"
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
	return listOf("Tags", indexed, func(t Tag) string { return strings.ToLower(t.Key) }, pg, same[Tag])
}

// taggable resolves the resource a tagging request names to its tag list.
// action is the IAM action being served, so that a resource can refuse
// changes (AWS managed policies belong to AWS) while still listing.
type taggable func(s *Server, c *call, action string) (*[]Tag, *Error)

// tagActions builds the three tagging actions IAM has for every taggable
// kind: Tag<kind>, Untag<kind> and List<kind>Tags.
func tagActions(kind string, target taggable) map[string]action {
	tag, untag, list := "Tag"+kind, "Untag"+kind, "List"+kind+"Tags"
	return map[string]action{
		tag: {mutates: true, run: func(s *Server, c *call) (any, *Error) {
			tags, err := target(s, c, tag)
			if err != nil {
				return nil, err
			}
			add, err := c.tags()
			if err != nil {
				return nil, err
			}
			if len(add) == 0 {
				return nil, errValidation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
			}
			merged, err := mergeTags(*tags, add)
			if err != nil {
				return nil, err
			}
			*tags = merged
			return nil, nil
		}},
		untag: {mutates: true, run: func(s *Server, c *call) (any, *Error) {
			tags, err := target(s, c, untag)
			if err != nil {
				return nil, err
			}
			keys := c.list("TagKeys")
			if len(keys) == 0 {
				return nil, errValidation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
			}
			if len(keys) > 50 {
				return nil, errValidation("1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50")
			}
			for _, k := range keys {
				if n := utf8.RuneCountInString(k); n == 0 || n > 128 || !tagChars.MatchString(k) {
					return nil, errValidation(`1 validation error detected: Value '[%s]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+]`, k)
				}
			}
			*tags = removeTags(*tags, keys)
			return nil, nil
		}},
		list: {run: func(s *Server, c *call) (any, *Error) {
			tags, err := target(s, c, list)
			if err != nil {
				return nil, err
			}
			return tagsPage(*tags, c.params)
		}},
	}
}

// tagsOf is the taggable of a kind whose tags any action may reach.
func tagsOf[E any](lookup func(*Server, *call) (E, *Error), tags func(E) *[]Tag) taggable {
	get := partOf(lookup, tags)
	return func(s *Server, c *call, _ string) (*[]Tag, *Error) { return get(s, c) }
}

// The taggable kinds and how each request names its resource.
var (
	userTagActions            = tagActions("User", tagsOf(userParam, func(u *User) *[]Tag { return &u.Tags }))
	roleTagActions            = tagActions("Role", tagsOf(roleParam, func(r *Role) *[]Tag { return &r.Tags }))
	instanceProfileTagActions = tagActions("InstanceProfile", tagsOf(instanceProfileParam, func(p *InstanceProfile) *[]Tag { return &p.Tags }))
	mfaTagActions             = tagActions("MFADevice", tagsOf(deviceParam, func(d *MFADevice) *[]Tag { return &d.Tags }))

	// AWS managed policies list their tags but refuse changes to them.
	policyTagActions = tagActions("Policy", func(s *Server, c *call, action string) (*[]Tag, *Error) {
		p, err := policyParam(s, c)
		if action != "ListPolicyTags" {
			p, err = writablePolicy(s, c, action)
		}
		if err != nil {
			return nil, err
		}
		return &p.Tags, nil
	})
)
