package sandbox

import (
	"encoding/base64"
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

// underPath is the first half of every ListX action that filters by
// PathPrefix: it reads PathPrefix and the page, and returns the map's
// values under the prefix, in key order, ready for paginate.
func underPath[T any](s *Server, m map[string]T, path func(T) string, p params) ([]T, page, *Error) {
	prefix, err := checkPathPrefix(p)
	if err != nil {
		return nil, page{}, err
	}
	pg, err := readPage(p)
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
