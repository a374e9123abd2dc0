package sandbox

import (
	"reflect"
	"sync"
)

// sortCache remembers the sorted value lists of the account's maps between
// changes. Every list action pages through its entities in key order;
// sorting 10,000 users on every ListUsers page was most of its cost.
type sortCache struct {
	mu    sync.Mutex
	gen   uint64          // the account generation the lists belong to
	lists map[uintptr]any // map identity → sorted []T
}

// changed invalidates every cached list. run and do call it after each
// mutating action, under the write lock.
func (s *Server) changed() { s.gen.Add(1) }

// sorted returns m's values ordered by key, from the cache when the account
// has not changed since. Callers must not modify the returned slice.
func sorted[T any](s *Server, m map[string]T) []T {
	c := &s.sorted
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen := s.gen.Load(); c.gen != gen || c.lists == nil {
		c.gen, c.lists = gen, map[uintptr]any{}
	}
	id := reflect.ValueOf(m).Pointer()
	if v, ok := c.lists[id]; ok {
		return v.([]T)
	}
	v := sortedValues(m)
	c.lists[id] = v
	return v
}
