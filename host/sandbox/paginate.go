package sandbox

import (
	"encoding/base64"
	"encoding/xml"
	"sort"
)

// page is one page of a list: IAM's MaxItems / Marker / IsTruncated scheme.
type page struct {
	maxItems int
	marker   string
}

// readPage reads MaxItems (default 100, 1..1000) and Marker.
func readPage(p params) (page, *Error) {
	n, err := p.integer("MaxItems", 100, 1, 1000)
	if err != nil {
		return page{}, err
	}
	return page{maxItems: n, marker: p.str("Marker")}, nil
}

// paginate cuts one page out of items, which must be sorted by sortKey. The
// marker is the opaque encoding of the sort key of the first item of the next
// page, so that paging stays correct when items are added or removed between
// calls (IAM's markers are opaque too).
func paginate[T any](items []T, sortKey func(T) string, pg page) (out []T, truncated bool, next string, err *Error) {
	start := 0
	if pg.marker != "" {
		raw, decErr := base64.RawURLEncoding.DecodeString(pg.marker)
		if decErr != nil {
			return nil, false, "", errInvalidInput("Invalid Marker: %s. Pass the Marker value from the previous response unchanged.", pg.marker)
		}
		from := string(raw)
		start = sort.Search(len(items), func(i int) bool { return sortKey(items[i]) >= from })
	}
	end := start + pg.maxItems
	if end >= len(items) {
		return items[start:], false, "", nil
	}
	return items[start:end], true, base64.RawURLEncoding.EncodeToString([]byte(sortKey(items[end]))), nil
}

// prefixAndPage reads what every list filtered by path reads last:
// PathPrefix, then the page.
func prefixAndPage(p params) (string, page, *Error) {
	prefix, err := checkPathPrefix(p)
	if err != nil {
		return "", page{}, err
	}
	pg, err := readPage(p)
	if err != nil {
		return "", page{}, err
	}
	return prefix, pg, nil
}

// underPath is the first half of every ListX action that filters by
// PathPrefix: it reads PathPrefix and the page, and returns the map's
// values under the prefix, in key order, ready for paginate.
func underPath[T any](s *Server, m map[string]T, path func(T) string, p params) ([]T, page, *Error) {
	prefix, pg, err := prefixAndPage(p)
	if err != nil {
		return nil, page{}, err
	}
	var out []T
	for _, v := range sorted(s, m) {
		if inPath(path(v), prefix) {
			out = append(out, v)
		}
	}
	return out, pg, nil
}

// listOf answers a ListX action: one page cut out of all (sorted by
// sortKey), each item rendered, in IAM's list shape (see listPage).
func listOf[T, X any](elem string, all []T, sortKey func(T) string, pg page, render func(T) X) (any, *Error) {
	items, truncated, marker, err := paginate(all, sortKey, pg)
	if err != nil {
		return nil, err
	}
	return pageOf(elem, items, truncated, marker, render), nil
}

// pageOf renders a page already cut, for the lists paged otherwise.
func pageOf[T, X any](elem string, items []T, truncated bool, marker string, render func(T) X) listPage[X] {
	return listPage[X]{elem, membersOf(items, render), truncated, marker}
}

// membersOf renders each item for an IAM list.
func membersOf[T, X any](items []T, render func(T) X) members[X] {
	out := make(members[X], len(items))
	for i, v := range items {
		out[i] = render(v)
	}
	return out
}

// listPage is IAM's answer to every ListX action: the list under its own
// element name (Users, Groups, …), IsTruncated, and the Marker when there
// is more.
type listPage[X any] struct {
	elem      string
	items     members[X]
	truncated bool
	marker    string
}

func (l listPage[X]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if err := encodeElement(e, l.elem, l.items); err != nil {
		return err
	}
	if err := encodeElement(e, "IsTruncated", l.truncated); err != nil {
		return err
	}
	if l.marker != "" {
		if err := encodeElement(e, "Marker", l.marker); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// same renders an item as itself.
func same[T any](v T) T { return v }
