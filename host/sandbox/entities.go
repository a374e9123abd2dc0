package sandbox

// What the actions of every kind of entity share: finding one by its key,
// resolving the one a request names, refusing a name already taken,
// renaming. The lookups of each kind, with IAM's not-found message for it,
// are in state.go.

// find looks an entity up by its key, or answers NoSuchEntity with IAM's
// message for its kind.
func find[T any](m map[string]*T, k, notFound string, args ...any) (*T, *Error) {
	if v := m[k]; v != nil {
		return v, nil
	}
	return nil, errNoSuchEntity(notFound, args...)
}

// roomFor refuses a new entity as IAM does when its name is taken (exists
// is IAM's message, naming it) or its kind is at the account's quota.
func roomFor[T any](m map[string]*T, name, exists string, quota int, quotaName string) *Error {
	if m[key(name)] != nil {
		return errAlreadyExists(exists, name)
	}
	if len(m) >= quota {
		return errLimitExceeded("Cannot exceed quota for %s: %d", quotaName, quota)
	}
	return nil
}

// renameTo reads what UpdateUser and UpdateGroup share: New<kind>Name
// (checked, and not another entity's) and NewPath, each the entity's
// current name or path when not sent.
func renameTo[T any](c *call, m map[string]*T, e *T, kind string, max int, name, path string) (newName, newPath string, err *Error) {
	newName, newPath = name, path
	if param := "New" + kind + "Name"; c.has(param) {
		newName = c.str(param)
		if err := validateName(param, newName, max); err != nil {
			return "", "", err
		}
		if other := m[key(newName)]; other != nil && other != e {
			return "", "", errAlreadyExists("%s with name %s already exists.", kind, newName)
		}
	}
	if c.has("NewPath") {
		if newPath, err = checkPath(c.params, "NewPath"); err != nil {
			return "", "", err
		}
	}
	return newName, newPath, nil
}

// named reads a required name parameter of at most max characters and
// resolves it with lookup: what every action naming an entity starts with.
func named[T any](c *call, param string, max int, lookup func(string) (T, *Error)) (T, *Error) {
	name, err := checkName(c.params, param, max)
	if err != nil {
		var none T
		return none, err
	}
	return lookup(name)
}

// both resolves the two entities a membership action names (a group and
// a user, a profile and a role), in that order.
func both[A, B any](s *Server, c *call, a func(*Server, *call) (A, *Error), b func(*Server, *call) (B, *Error)) (A, B, *Error) {
	x, err := a(s, c)
	if err != nil {
		var noA A
		var noB B
		return noA, noB, err
	}
	y, err := b(s, c)
	return x, y, err
}

// partOf turns the lookup of an entity into the lookup of a part of it
// (its tags, its policies), for the actions that many kinds share.
func partOf[E, P any](lookup func(*Server, *call) (E, *Error), part func(E) P) func(*Server, *call) (P, *Error) {
	return func(s *Server, c *call) (P, *Error) {
		e, err := lookup(s, c)
		if err != nil {
			var none P
			return none, err
		}
		return part(e), nil
	}
}
