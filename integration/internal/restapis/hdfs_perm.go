package restapis

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// Permission checking as HDFS's FSPermissionChecker does it: the
// superuser passes everything; everyone else needs EXECUTE on every
// ancestor directory, and the owner, ACL, group or other bits for the
// access itself; the sticky bit protects other users' entries.

// caller is the user an operation runs as.
type caller struct {
	name   string
	groups []string
	addr   string // the client's address, for messages
}

func (u *caller) super() bool {
	return u.name == superuser || slices.Contains(u.groups, supergroup)
}

func (u *caller) inGroup(g string) bool { return slices.Contains(u.groups, g) }

// callerFor resolves a user's groups: the superuser is in supergroup;
// everyone else has the groups the configuration gives.
func (fs *fileSystem) callerFor(name, addr string) *caller {
	u := &caller{name: name, groups: fs.groups[name], addr: addr}
	if name == superuser {
		u.groups = append(slices.Clone(u.groups), supergroup)
	}
	return u
}

// The FsAction bits.
const (
	permExec  uint16 = 1
	permWrite uint16 = 2
	permRead  uint16 = 4
)

var fsActionNames = []string{"NONE", "EXECUTE", "WRITE", "WRITE_EXECUTE", "READ", "READ_EXECUTE", "READ_WRITE", "ALL"}

// symbolic is the ls-style permission string, "drwxr-xr-t".
func symbolic(n *inode) string {
	var b strings.Builder
	switch n.kind {
	case kindDir:
		b.WriteByte('d')
	case kindSymlink:
		b.WriteByte('l')
	default:
		b.WriteByte('-')
	}
	for shift := 6; shift >= 0; shift -= 3 {
		bits := n.perm >> shift & 7
		b.WriteString(rwx(bits))
	}
	s := []byte(b.String())
	if n.perm&0o1000 != 0 {
		if s[9] == 'x' {
			s[9] = 't'
		} else {
			s[9] = 'T'
		}
	}
	if len(n.acl) > 0 {
		s = append(s, '+')
	}
	return string(s)
}

func rwx(bits uint16) string {
	out := []byte("---")
	for i, c := range "rwx" {
		if bits&(4>>i) != 0 {
			out[i] = byte(c)
		}
	}
	return string(out)
}

// parseFsAction parses "r-x" into bits.
func parseFsAction(s string) (uint16, bool) {
	if len(s) != 3 {
		return 0, false
	}
	var bits uint16
	for i, c := range "rwx" {
		switch s[i] {
		case byte(c):
			bits |= 4 >> i
		case '-':
		default:
			return 0, false
		}
	}
	return bits, true
}

func denied(u *caller, want uint16, p string, n *inode) *remoteError {
	return raise(errAccessControl, "Permission denied: user=%s, access=%s, inode=\"%s\":%s:%s:%s",
		u.name, fsActionNames[want], p, n.owner, n.group, symbolic(n))
}

// allowed reports whether u has want on n.
func allowed(u *caller, n *inode, want uint16) bool {
	if u.super() {
		return true
	}
	if u.name == n.owner {
		return n.perm>>6&want == want
	}
	if len(n.acl) == 0 {
		if u.inGroup(n.group) {
			return n.perm>>3&want == want
		}
		return n.perm&want == want
	}
	mask := n.perm >> 3 & 7
	for _, e := range n.acl {
		if !e.isDefault && e.typ == "user" && e.name == u.name {
			return e.perm&mask&want == want
		}
	}
	matched := false
	for _, e := range n.acl {
		if e.isDefault || e.typ != "group" {
			continue
		}
		name := e.name
		if name == "" {
			name = n.group
		}
		if u.inGroup(name) {
			matched = true
			if e.perm&mask&want == want {
				return true
			}
		}
	}
	if matched {
		return false
	}
	return n.perm&want == want
}

// check fails unless u has want on n, found at p.
func (fs *fileSystem) check(u *caller, p string, n *inode, want uint16) *remoteError {
	if allowed(u, n, want) {
		return nil
	}
	return denied(u, want, p, n)
}

// traverse checks EXECUTE on the existing directories above p; fs.mu must
// be held.
func (fs *fileSystem) traverse(u *caller, p string) *remoteError {
	if u.super() || p == "/" {
		return nil
	}
	var ancestors []string
	for q := path.Dir(p); ; q = path.Dir(q) {
		ancestors = append(ancestors, q)
		if q == "/" {
			break
		}
	}
	for i := len(ancestors) - 1; i >= 0; i-- {
		q := ancestors[i]
		n := fs.nodes[q]
		if n == nil || !n.dir() {
			return nil
		}
		if err := fs.check(u, q, n, permExec); err != nil {
			return err
		}
	}
	return nil
}

// checkParentWrite checks that u may add or remove the entry p in its
// parent directory: traverse, WRITE and EXECUTE on the parent, and the
// sticky bit; fs.mu must be held.
func (fs *fileSystem) checkParentWrite(u *caller, p string) *remoteError {
	if err := fs.traverse(u, p); err != nil {
		return err
	}
	dir := path.Dir(p)
	parent := fs.nodes[dir]
	if parent == nil {
		return notFound(dir)
	}
	if err := fs.check(u, dir, parent, permWrite|permExec); err != nil {
		return err
	}
	if n := fs.nodes[p]; n != nil && parent.perm&0o1000 != 0 && !u.super() && u.name != n.owner && u.name != parent.owner {
		return raise(errAccessControl, "Permission denied by sticky bit: user=%s, path=\"%s\":%s:%s:%s, parent=\"%s\":%s:%s:%s",
			u.name, p, n.owner, n.group, symbolic(n), dir, parent.owner, parent.group, symbolic(parent))
	}
	return nil
}

// checkOwner is FSPermissionChecker.checkOwner.
func checkOwner(u *caller, p string, n *inode) *remoteError {
	if u.super() || u.name == n.owner {
		return nil
	}
	return raise(errAccessControl, "Permission denied. user=%s is not the owner of inode=%s", u.name, p)
}

func checkSuperuser(u *caller) *remoteError {
	if u.super() {
		return nil
	}
	return raise(errAccessControl, "Access denied for user %s. Superuser privilege is required", u.name)
}

// liveNode is the node at p for a change by u: traverse checked, not in a
// snapshot; fs.mu must be held.
func (fs *fileSystem) liveNode(u *caller, p string) (*inode, *remoteError) {
	if err := fs.readOnlySnapshot(p); err != nil {
		return nil, err
	}
	if err := fs.traverse(u, p); err != nil {
		return nil, err
	}
	return fs.nodeLocked(p)
}

// change runs f on the node at p under the lock, after liveNode.
func (fs *fileSystem) change(u *caller, p string, f func(n *inode) *remoteError) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.liveNode(u, p)
	if err != nil {
		return err
	}
	if err := f(n); err != nil {
		return err
	}
	n.mtime = fs.now().UnixMilli()
	return nil
}

func (fs *fileSystem) setPermission(u *caller, p string, perm uint16) *remoteError {
	return fs.change(u, p, func(n *inode) *remoteError {
		if err := checkOwner(u, p, n); err != nil {
			return err
		}
		// With an extended ACL the group bits are the mask, as in HDFS.
		n.perm = perm
		return nil
	})
}

func (fs *fileSystem) setOwner(u *caller, p, owner, group string) *remoteError {
	return fs.change(u, p, func(n *inode) *remoteError {
		if err := checkOwner(u, p, n); err != nil {
			return err
		}
		if !u.super() {
			if owner != "" && owner != n.owner {
				return raise(errAccessControl, "User %s is not a super user (non-super user cannot change owner).", u.name)
			}
			if group != "" && !u.inGroup(group) {
				return raise(errAccessControl, "User %s does not belong to %s", u.name, group)
			}
		}
		if owner != "" {
			n.owner = owner
		}
		if group != "" {
			n.group = group
		}
		return nil
	})
}

func (fs *fileSystem) setTimes(u *caller, p string, mtime, atime int64) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.liveNode(u, p)
	if err != nil {
		return err
	}
	if err := fs.check(u, p, n, permWrite); err != nil {
		return err
	}
	if mtime != -1 {
		n.mtime = mtime
	}
	if atime != -1 {
		n.atime = atime
	}
	return nil
}

// setReplication answers false for a directory, as HDFS does.
func (fs *fileSystem) setReplication(u *caller, p string, replication int16) (bool, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.liveNode(u, p)
	if err != nil {
		return false, err
	}
	if err := fs.check(u, p, n, permWrite); err != nil {
		return false, err
	}
	if n.dir() || n.symlink() {
		return false, nil
	}
	if n.ecPolicy == "" {
		n.replication = replication
	}
	return true, nil
}

// checkAccess is CHECKACCESS.
func (fs *fileSystem) checkAccess(u *caller, p string, want uint16) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return err
	}
	r, err := fs.lookupLocked(p)
	if err != nil {
		return err
	}
	return fs.check(u, p, r.node, want)
}

// aclEntry is one ACL entry.
type aclEntry struct {
	isDefault bool
	typ       string // user, group, mask, other
	name      string
	perm      uint16
}

func (e aclEntry) String() string {
	s := e.typ + ":" + e.name + ":" + rwx(e.perm)
	if e.isDefault {
		s = "default:" + s
	}
	return s
}

func (e aclEntry) key() string { return fmt.Sprint(e.isDefault, e.typ, e.name) }

var aclTypeOrder = map[string]int{"user": 0, "group": 1, "mask": 2, "other": 3}

// sortACL puts entries in HDFS's order: access before default, then by
// type, unnamed before named, then by name.
func sortACL(entries []aclEntry) {
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.isDefault != b.isDefault {
			return !a.isDefault
		}
		if a.typ != b.typ {
			return aclTypeOrder[a.typ] < aclTypeOrder[b.typ]
		}
		if (a.name == "") != (b.name == "") {
			return a.name == ""
		}
		return a.name < b.name
	})
}

// parseACLSpec parses an aclspec; withPerms is false for
// REMOVEACLENTRIES, whose entries name no permissions.
func parseACLSpec(spec string, withPerms bool) ([]aclEntry, *remoteError) {
	bad := func() *remoteError {
		return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"aclspec\": %s", spec)
	}
	if spec == "" {
		return nil, bad()
	}
	var out []aclEntry
	for part := range strings.SplitSeq(spec, ",") {
		fields := strings.Split(part, ":")
		e := aclEntry{}
		if fields[0] == "default" {
			e.isDefault, fields = true, fields[1:]
		}
		if len(fields) < 2 || len(fields) > 3 {
			return nil, bad()
		}
		e.typ, e.name = fields[0], fields[1]
		if _, ok := aclTypeOrder[e.typ]; !ok || (e.typ == "mask" || e.typ == "other") && e.name != "" {
			return nil, bad()
		}
		switch {
		case withPerms && len(fields) != 3:
			return nil, bad()
		case withPerms:
			bits, ok := parseFsAction(fields[2])
			if !ok {
				return nil, bad()
			}
			e.perm = bits
		case len(fields) == 3 && fields[2] != "":
			return nil, raise(errIllegalArgument, "Invalid <aclSpec> : %s", spec)
		}
		out = append(out, e)
	}
	return out, nil
}

func hasNamedAccess(acl []aclEntry) bool {
	for _, e := range acl {
		if !e.isDefault && e.name != "" {
			return true
		}
	}
	return false
}

// fullACL spells out n's ACL with the base entries the permission bits
// hold.
func fullACL(n *inode) []aclEntry {
	extended := hasNamedAccess(n.acl)
	out := []aclEntry{
		{typ: "user", perm: n.perm >> 6 & 7},
		{typ: "other", perm: n.perm & 7},
	}
	groupPerm := n.perm >> 3 & 7
	if extended {
		out = append(out, aclEntry{typ: "mask", perm: groupPerm})
	} else {
		out = append(out, aclEntry{typ: "group", perm: groupPerm})
	}
	out = append(out, n.acl...)
	return out
}

// storeACL folds a full ACL back into n: base entries into the permission
// bits (the mask as group bits when named entries exist), the rest into
// n.acl. The mask is computed unless maskGiven.
func storeACL(n *inode, entries []aclEntry, maskGiven map[bool]bool) *remoteError {
	byKey := map[string]aclEntry{}
	for _, e := range entries {
		byKey[e.key()] = e
	}
	for _, scope := range []bool{false, true} {
		var named, any bool
		union := uint16(0)
		for _, e := range byKey {
			if e.isDefault != scope {
				continue
			}
			any = true
			if e.name != "" {
				named = true
			}
			if e.typ == "group" || e.typ == "user" && e.name != "" {
				union |= e.perm
			}
		}
		if !any {
			continue
		}
		for _, base := range []string{"user", "group", "other"} {
			if _, ok := byKey[aclEntry{isDefault: scope, typ: base}.key()]; !ok {
				if !scope {
					return raise(errAclException, "Invalid ACL: the user, group and other entries are required.")
				}
				// Default base entries missing: copied from the access ones.
				acc := byKey[aclEntry{typ: base}.key()]
				acc.isDefault = true
				byKey[acc.key()] = acc
			}
		}
		maskKey := aclEntry{isDefault: scope, typ: "mask"}.key()
		if named && !maskGiven[scope] {
			byKey[maskKey] = aclEntry{isDefault: scope, typ: "mask", perm: union}
		}
		if !named && !maskGiven[scope] {
			delete(byKey, maskKey)
		}
	}
	var rest []aclEntry
	var user, group, other, mask uint16
	hasMask := false
	for _, e := range byKey {
		switch {
		case e.isDefault || e.name != "":
			rest = append(rest, e)
		case e.typ == "user":
			user = e.perm
		case e.typ == "group":
			group = e.perm
		case e.typ == "other":
			other = e.perm
		case e.typ == "mask":
			mask, hasMask = e.perm, true
		}
	}
	groupBits := group
	if hasNamedAccess(rest) || hasMask {
		groupBits = mask
		rest = append(rest, aclEntry{typ: "group", perm: group})
	}
	sortACL(rest)
	n.acl = rest
	if len(n.acl) == 0 {
		n.acl = nil
	}
	n.perm = n.perm&0o1000 | user<<6 | groupBits<<3 | other
	return nil
}

// modifyACL applies one of the ACL operations to p.
func (fs *fileSystem) modifyACL(u *caller, p, op string, spec []aclEntry) *remoteError {
	return fs.change(u, p, func(n *inode) *remoteError {
		if err := checkOwner(u, p, n); err != nil {
			return err
		}
		current := fullACL(n)
		maskGiven := map[bool]bool{}
		switch op {
		case "SETACL":
			current = spec
			for _, e := range spec {
				if e.typ == "mask" {
					maskGiven[e.isDefault] = true
				}
			}
		case "MODIFYACLENTRIES":
			byKey := map[string]int{}
			for i, e := range current {
				byKey[e.key()] = i
			}
			for _, e := range spec {
				if e.typ == "mask" {
					maskGiven[e.isDefault] = true
				}
				if i, ok := byKey[e.key()]; ok {
					current[i] = e
				} else {
					current = append(current, e)
				}
			}
		case "REMOVEACLENTRIES":
			for _, e := range spec {
				if e.name == "" && e.typ != "mask" && !e.isDefault {
					return raise(errAclException, "Invalid ACL: the user, group and other entries are required.")
				}
				current = slices.DeleteFunc(current, func(c aclEntry) bool { return c.key() == e.key() })
			}
		case "REMOVEDEFAULTACL":
			current = slices.DeleteFunc(current, func(c aclEntry) bool { return c.isDefault })
		case "REMOVEACL":
			current = slices.DeleteFunc(current, func(c aclEntry) bool { return c.isDefault || c.name != "" || c.typ == "mask" })
			if !slices.ContainsFunc(current, func(c aclEntry) bool { return c.typ == "group" }) {
				for _, e := range n.acl {
					if !e.isDefault && e.typ == "group" && e.name == "" {
						current = append(current, e)
					}
				}
			}
		}
		return storeACL(n, current, maskGiven)
	})
}

// aclStatus is GETACLSTATUS's object.
type aclStatus struct {
	Entries    []string `json:"entries"`
	Group      string   `json:"group"`
	Owner      string   `json:"owner"`
	Permission string   `json:"permission"`
	StickyBit  bool     `json:"stickyBit"`
}

func (fs *fileSystem) aclStatus(u *caller, p string) (aclStatus, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return aclStatus{}, err
	}
	r, err := fs.lookupLocked(p)
	if err != nil {
		return aclStatus{}, err
	}
	n := r.node
	st := aclStatus{Entries: []string{}, Group: n.group, Owner: n.owner, Permission: octal(n.perm), StickyBit: n.perm&0o1000 != 0}
	for _, e := range n.acl {
		st.Entries = append(st.Entries, e.String())
	}
	return st, nil
}
