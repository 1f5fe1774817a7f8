package restapis

import (
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// The namespace the namenode and datanode handlers share: an in-memory
// HDFS with HDFS's rules for names, permissions (POSIX bits, sticky bit,
// ACLs, a superuser), quotas, extended attributes, storage and erasure
// coding policies, symbolic links and snapshots.

type nodeKind int

const (
	kindFile nodeKind = iota
	kindDir
	kindSymlink
)

// inode is a file, directory or symbolic link.
type inode struct {
	kind          nodeKind
	data          []byte
	target        string // a symlink's target
	perm          uint16 // with the sticky bit, 01000
	owner, group  string
	id            int64
	mtime, atime  int64 // milliseconds since the epoch
	replication   int16
	blockSize     int64
	xattrs        map[string][]byte // by prefixed name, "user.a"
	acl           []aclEntry        // extended entries; nil for none
	storagePolicy byte              // 0: unspecified (inherited)
	ecPolicy      string            // set on a directory, or the policy a file was written with
	nsQuota       int64             // -1: none
	ssQuota       int64
	typeQuota     map[string]int64
	snapshottable bool
	snapshots     []*snapshot // in creation order
}

func (n *inode) dir() bool     { return n.kind == kindDir }
func (n *inode) symlink() bool { return n.kind == kindSymlink }

// clone copies n deeply enough for a snapshot: data and metadata, not the
// snapshots themselves.
func (n *inode) clone() *inode {
	c := *n
	c.data = slices.Clone(n.data)
	c.xattrs = maps.Clone(n.xattrs)
	c.acl = slices.Clone(n.acl)
	c.typeQuota = maps.Clone(n.typeQuota)
	c.snapshots = nil
	return &c
}

// snapshot is a frozen copy of a snapshottable directory's tree.
type snapshot struct {
	name  string
	id    int32
	ctime int64
	nodes map[string]*inode // by path relative to the directory, "" for itself
}

// The cluster's fixed facts, as a small default cluster reports them.
const (
	superuser          = "hdfs"
	supergroup         = "supergroup"
	defaultBlockSize   = 128 << 20
	defaultReplication = 3
	bytesPerChecksum   = 512
	clusterCapacity    = 1 << 40
	snapshotQuota      = 65536
	maxRemainingBatch  = 1000 // dfs.ls.limit
)

// fileSystem is the namespace.
type fileSystem struct {
	mu     sync.Mutex        // guards everything below
	nodes  map[string]*inode // by clean absolute path; "/" is always there
	nextID int64
	nextSn int32
	groups map[string][]string // user -> groups, beside superuser's supergroup
	ec     map[string]bool     // erasure coding policy -> enabled
	now    func() time.Time
}

// firstInodeID is the id HDFS gives its first inode after the root.
const firstInodeID = 16386

func newFileSystem(groups map[string][]string, now func() time.Time) *fileSystem {
	if now == nil {
		now = time.Now
	}
	fs := &fileSystem{nodes: map[string]*inode{}, nextID: firstInodeID - 1, groups: groups, now: now,
		ec: map[string]bool{}}
	for _, p := range ecPolicies {
		fs.ec[p.Name] = p.Name == defaultECPolicy
	}
	fs.nodes["/"] = fs.newInode(kindDir, 0o755, superuser, supergroup)
	// The directories a cluster's administrator makes first: /tmp open to
	// all with the sticky bit, and /user for the home directories.
	fs.nodes["/tmp"] = fs.newInode(kindDir, 0o1777, superuser, supergroup)
	fs.nodes["/user"] = fs.newInode(kindDir, 0o755, superuser, supergroup)
	return fs
}

// newInode stamps a node with an id and the current time; fs.mu must be
// held (or fs not yet shared).
func (fs *fileSystem) newInode(kind nodeKind, perm uint16, owner, group string) *inode {
	n := &inode{kind: kind, perm: perm, owner: owner, group: group, id: fs.nextID, nsQuota: -1, ssQuota: -1}
	fs.nextID++
	n.mtime = fs.now().UnixMilli()
	if kind != kindDir {
		n.atime = n.mtime
	}
	return n
}

// fileStatus is WebHDFS's FileStatus JSON object.
type fileStatus struct {
	PathSuffix       string         `json:"pathSuffix"`
	Type             string         `json:"type"`
	Symlink          string         `json:"symlink,omitempty"`
	Length           int64          `json:"length"`
	Owner            string         `json:"owner"`
	Group            string         `json:"group"`
	Permission       string         `json:"permission"`
	AclBit           bool           `json:"aclBit,omitempty"`
	EcBit            bool           `json:"ecBit,omitempty"`
	EcPolicy         string         `json:"ecPolicy,omitempty"`
	EcPolicyObj      map[string]any `json:"ecPolicyObj,omitempty"`
	SnapshotEnabled  bool           `json:"snapshotEnabled,omitempty"`
	AccessTime       int64          `json:"accessTime"`
	ModificationTime int64          `json:"modificationTime"`
	BlockSize        int64          `json:"blockSize"`
	Replication      int16          `json:"replication"`
	FileID           int64          `json:"fileId"`
	ChildrenNum      int32          `json:"childrenNum"`
	StoragePolicy    byte           `json:"storagePolicy"`
}

func octal(perm uint16) string { return strconvOctal(uint64(perm)) }

// status describes n, found at p in nodes.
func status(nodes map[string]*inode, p, suffix string, n *inode) fileStatus {
	st := fileStatus{
		PathSuffix: suffix, Type: "FILE", Length: int64(len(n.data)), Owner: n.owner, Group: n.group,
		Permission: octal(n.perm), AclBit: len(n.acl) > 0, AccessTime: n.atime, ModificationTime: n.mtime,
		BlockSize: n.blockSize, Replication: n.replication, FileID: n.id, StoragePolicy: n.storagePolicy,
	}
	switch n.kind {
	case kindDir:
		st.Type = "DIRECTORY"
		st.ChildrenNum = int32(len(children(nodes, p)))
		st.SnapshotEnabled = n.snapshottable
	case kindSymlink:
		st.Type, st.Symlink, st.Length = "SYMLINK", n.target, 0
	default:
		if n.ecPolicy != "" {
			st.EcBit, st.EcPolicy = true, n.ecPolicy
			st.EcPolicyObj = ecPolicyByName(n.ecPolicy).asMap()
		}
	}
	return st
}

// children lists the names directly under directory p of nodes, sorted.
func children(nodes map[string]*inode, p string) []string {
	var names []string
	for q := range nodes {
		if q != p && path.Dir(q) == p && q != "/" {
			names = append(names, path.Base(q))
		}
	}
	slices.Sort(names)
	return names
}

// under reports whether q is p or below it.
func under(q, p string) bool {
	return q == p || p == "/" || strings.HasPrefix(q, p+"/")
}

func notFound(p string) *remoteError {
	return raise(errNotFound, "File does not exist: %s", p)
}

// resolved is a path looked up for reading: the live namespace, or a
// snapshot's frozen one.
type resolved struct {
	nodes      map[string]*inode // where the node lives
	key        string            // its key there
	node       *inode
	inSnapshot bool
}

// lookupLocked finds p, which may go through a snapshot
// (/dir/.snapshot/name/...); fs.mu must be held.
func (fs *fileSystem) lookupLocked(p string) (resolved, *remoteError) {
	if n := fs.nodes[p]; n != nil {
		return resolved{nodes: fs.nodes, key: p, node: n}, nil
	}
	dir, rest, ok := strings.Cut(p, "/.snapshot")
	if !ok || dir == "" {
		dir = "/"
		rest, ok = strings.CutPrefix(p, "/.snapshot")
	}
	d := fs.nodes[dir]
	if !ok || d == nil || !d.snapshottable || rest != "" && rest[0] != '/' {
		return resolved{}, notFound(p)
	}
	name, inner, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	s := d.findSnapshot(name)
	if s == nil {
		return resolved{}, notFound(p)
	}
	// Re-key the frozen nodes under the snapshot's own path, so that
	// listing and status work on them as on live ones.
	base := path.Join(dir, ".snapshot", name)
	nodes := make(map[string]*inode, len(s.nodes))
	for rel, n := range s.nodes {
		nodes[path.Join(base, rel)] = n
	}
	key := path.Join(base, inner)
	if nodes[key] == nil {
		return resolved{}, notFound(p)
	}
	return resolved{nodes: nodes, key: key, node: nodes[key], inSnapshot: true}, nil
}

func (d *inode) findSnapshot(name string) *snapshot {
	for _, s := range d.snapshots {
		if s.name == name {
			return s
		}
	}
	return nil
}

// nodeLocked is the live node at p or a FileNotFoundException; fs.mu
// must be held.
func (fs *fileSystem) nodeLocked(p string) (*inode, *remoteError) {
	if n := fs.nodes[p]; n != nil {
		return n, nil
	}
	return nil, notFound(p)
}

// fileLocked is the live file at p; fs.mu must be held.
func (fs *fileSystem) fileLocked(p string) (*inode, *remoteError) {
	n, err := fs.nodeLocked(p)
	switch {
	case err != nil:
		return nil, err
	case n.dir():
		return nil, raise(errNotFound, "Path is not a file: %s", p)
	}
	return n, nil
}

// inSnapshotDir says whether p names something in a snapshot, which
// cannot be modified.
func inSnapshotDir(p string) bool {
	return strings.Contains(p+"/", "/.snapshot/")
}

func (fs *fileSystem) readOnlySnapshot(p string) *remoteError {
	if inSnapshotDir(p) {
		return raise(errSnapshotAccess, "Modification on a read-only snapshot is disallowed")
	}
	return nil
}

// stat describes p.
func (fs *fileSystem) stat(u *caller, p string) (fileStatus, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return fileStatus{}, err
	}
	r, err := fs.lookupLocked(p)
	if err != nil {
		return fileStatus{}, err
	}
	return status(r.nodes, r.key, "", r.node), nil
}

// list is LISTSTATUS: the children of a directory, or the file itself.
// With after != nil it is LISTSTATUS_BATCH: at most a batch, after the
// given name, and how many remain.
func (fs *fileSystem) list(u *caller, p string, after *string) ([]fileStatus, int, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return nil, 0, err
	}
	r, err := fs.lookupLocked(p)
	if err != nil {
		if after != nil {
			return nil, 0, raise(errNotFound, "File %s does not exist.", p)
		}
		return nil, 0, err
	}
	if !r.node.dir() {
		return []fileStatus{status(r.nodes, r.key, "", r.node)}, 0, nil
	}
	if err := fs.check(u, p, r.node, permRead|permExec); err != nil {
		return nil, 0, err
	}
	list := []fileStatus{}
	names := children(r.nodes, r.key)
	if after != nil {
		i, _ := slices.BinarySearch(names, *after)
		if i < len(names) && names[i] == *after {
			i++
		}
		names = names[i:]
	}
	remaining := 0
	if after != nil && len(names) > maxRemainingBatch {
		remaining = len(names) - maxRemainingBatch
		names = names[:maxRemainingBatch]
	}
	for _, name := range names {
		q := path.Join(r.key, name)
		list = append(list, status(r.nodes, q, name, r.nodes[q]))
	}
	return list, remaining, nil
}

// checkCreateLocked says whether u may create a file at p; fs.mu must be
// held. Missing parents are made when createParent.
func (fs *fileSystem) checkCreateLocked(u *caller, p string, overwrite, createParent bool) *remoteError {
	if err := fs.readOnlySnapshot(p); err != nil {
		return err
	}
	if err := checkName(p); err != nil {
		return err
	}
	for q := path.Dir(p); ; q = path.Dir(q) {
		if n := fs.nodes[q]; n != nil && !n.dir() {
			return raise(errParentNotDir, "Parent path is not a directory: %s", q)
		}
		if q == "/" {
			break
		}
	}
	if parent := fs.nodes[path.Dir(p)]; parent == nil && !createParent {
		return raise(errNotFound, "Parent directory doesn't exist: %s", path.Dir(p))
	}
	existing := fs.nodes[p]
	switch {
	case p == "/" || existing != nil && existing.dir():
		return raise(errExists, "%s already exists as a directory", p)
	case existing != nil && !overwrite:
		return raise(errExists, "%s for client %s already exists", p, u.addr)
	case existing != nil:
		if err := fs.check(u, p, existing, permWrite); err != nil {
			return err
		}
	}
	if fs.nodes[path.Dir(p)] != nil {
		return fs.checkParentWrite(u, p)
	}
	// The missing parents are made in the nearest existing ancestor.
	if err := fs.traverse(u, p); err != nil {
		return err
	}
	q := path.Dir(p)
	for fs.nodes[q] == nil {
		q = path.Dir(q)
	}
	return fs.check(u, q, fs.nodes[q], permWrite|permExec)
}

// createFile stores data at p as a new file of u's.
func (fs *fileSystem) createFile(u *caller, p string, f createOptions, data []byte) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.checkCreateLocked(u, p, f.overwrite, f.createParent); err != nil {
		return err
	}
	if err := fs.mkdirAll(u, path.Dir(p), 0o755, errParentNotDir); err != nil {
		return err
	}
	if err := fs.checkParentWrite(u, p); err != nil {
		return err
	}
	n := fs.newInode(kindFile, f.perm, u.name, fs.nodes[path.Dir(p)].group)
	n.replication, n.blockSize, n.data = f.replication, f.blockSize, data
	if ec := fs.effectiveECLocked(path.Dir(p)); ec != "" {
		n.ecPolicy, n.replication = ec, 1
	}
	if err := fs.chargeLocked(p, 1, int64(len(data))*int64(n.replication), fs.nodes[p]); err != nil {
		return err
	}
	fs.nodes[p] = n
	fs.touchLocked(path.Dir(p))
	return nil
}

// createOptions are CREATE's parameters.
type createOptions struct {
	perm         uint16
	overwrite    bool
	createParent bool
	replication  int16
	blockSize    int64
}

// mkdirAll makes p and its missing parents directories as u; fs.mu must
// be held. A file in the way is a notDir exception for p itself and a
// ParentNotDirectoryException above it.
func (fs *fileSystem) mkdirAll(u *caller, p string, perm uint16, notDir exceptionClass) *remoteError {
	if n := fs.nodes[p]; n != nil {
		if !n.dir() {
			return raise(notDir, "Path is not a directory: %s", p)
		}
		return nil
	}
	if err := fs.mkdirAll(u, path.Dir(p), perm, errParentNotDir); err != nil {
		return err
	}
	if err := fs.checkParentWrite(u, p); err != nil {
		return err
	}
	if err := fs.chargeLocked(p, 1, 0, nil); err != nil {
		return err
	}
	parent := fs.nodes[path.Dir(p)]
	n := fs.newInode(kindDir, perm, u.name, parent.group)
	fs.nodes[p] = n
	fs.touchLocked(path.Dir(p))
	return nil
}

func (fs *fileSystem) mkdirs(u *caller, p string, perm uint16) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.readOnlySnapshot(p); err != nil {
		return err
	}
	if err := checkName(p); err != nil {
		return err
	}
	if err := fs.traverse(u, p); err != nil {
		return err
	}
	return fs.mkdirAll(u, p, perm, errExists)
}

// touchLocked records a change in directory p; fs.mu must be held.
func (fs *fileSystem) touchLocked(p string) {
	if n := fs.nodes[p]; n != nil {
		n.mtime = fs.now().UnixMilli()
	}
}

// checkName refuses names HDFS reserves or cannot store.
func checkName(p string) *remoteError {
	if path.Base(p) == ".snapshot" {
		return raise(errIllegalArgument, "\".snapshot\" is a reserved name.")
	}
	return nil
}

// appendFile adds data to the file at p.
func (fs *fileSystem) appendFile(u *caller, p string, data []byte) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return err
	}
	n, err := fs.fileLocked(p)
	if err != nil {
		return err
	}
	if err := fs.check(u, p, n, permWrite); err != nil {
		return err
	}
	if err := fs.chargeLocked(p, 0, int64(len(data))*int64(n.replication), nil); err != nil {
		return err
	}
	n.data = append(n.data, data...)
	n.mtime = fs.now().UnixMilli()
	return nil
}

// read returns length bytes of the file at p from offset (length < 0: to
// the end), through snapshots too.
func (fs *fileSystem) read(u *caller, p string, offset, length int64) ([]byte, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.readableFileLocked(u, p)
	if err != nil {
		return nil, err
	}
	size := int64(len(n.data))
	if offset > size {
		return nil, raise(errEOF, "Cannot seek after EOF")
	}
	end := size
	if length >= 0 && offset+length < size {
		end = offset + length
	}
	n.atime = fs.now().UnixMilli()
	return slices.Clone(n.data[offset:end]), nil
}

// readableFileLocked is the file at p, live or in a snapshot, if u may
// read it; fs.mu must be held.
func (fs *fileSystem) readableFileLocked(u *caller, p string) (*inode, *remoteError) {
	if err := fs.traverse(u, p); err != nil {
		return nil, err
	}
	r, err := fs.lookupLocked(p)
	if err != nil {
		return nil, err
	}
	if r.node.dir() {
		return nil, raise(errNotFound, "Path is not a file: %s", p)
	}
	if err := fs.check(u, p, r.node, permRead); err != nil {
		return nil, err
	}
	return r.node, nil
}

// rename moves src to dst with HDFS's rename semantics: into dst when it
// is a directory, and false (nothing moved) when src is missing, dst
// exists (as a file, or as dst/name), dst's parent is missing, or dst is
// below src. With overwrite (renameoptions=OVERWRITE, rename2) an
// existing file or empty directory at dst is replaced and failures are
// exceptions.
func (fs *fileSystem) rename(u *caller, src, dst string, options string) (bool, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, p := range []string{src, dst} {
		if err := fs.readOnlySnapshot(p); err != nil {
			return false, err
		}
	}
	rename2 := options != ""
	if fs.nodes[src] == nil || src == "/" {
		if rename2 {
			return false, raise(errNotFound, "rename source %s is not found.", src)
		}
		return false, nil
	}
	if n := fs.nodes[dst]; n != nil && n.dir() && dst != src && !rename2 {
		dst = path.Join(dst, path.Base(src))
	}
	if dst == src {
		return true, nil
	}
	if err := fs.checkParentWrite(u, src); err != nil {
		return false, err
	}
	parent := fs.nodes[path.Dir(dst)]
	existing := fs.nodes[dst]
	switch {
	case parent == nil || !parent.dir() || under(dst, src):
		if rename2 {
			return false, raise(errIO, "rename destination parent %s not found.", path.Dir(dst))
		}
		return false, nil
	case existing != nil && !rename2:
		return false, nil
	case existing != nil && options != "OVERWRITE":
		return false, raise(errExists, "rename destination %s already exists.", dst)
	case existing != nil && existing.dir() && len(children(fs.nodes, dst)) > 0:
		return false, raise(errIO, "rename destination directory is not empty: %s", dst)
	}
	if err := fs.checkParentWrite(u, dst); err != nil {
		return false, err
	}
	if existing != nil {
		delete(fs.nodes, dst)
	}
	moved := map[string]*inode{}
	for q, n := range fs.nodes {
		if under(q, src) {
			moved[dst+strings.TrimPrefix(q, src)] = n
			delete(fs.nodes, q)
		}
	}
	maps.Copy(fs.nodes, moved)
	fs.touchLocked(path.Dir(src))
	fs.touchLocked(path.Dir(dst))
	return true, nil
}

// remove deletes p (and with recursive what is below it); false when p
// does not exist or is the root.
func (fs *fileSystem) remove(u *caller, p string, recursive bool) (bool, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.readOnlySnapshot(p); err != nil {
		return false, err
	}
	n := fs.nodes[p]
	if n == nil || p == "/" {
		return false, nil
	}
	if n.dir() && !recursive && len(children(fs.nodes, p)) > 0 {
		return false, raise(errNotEmpty, "`%s is non empty': Directory is not empty", p)
	}
	if err := fs.checkParentWrite(u, p); err != nil {
		return false, err
	}
	for q, m := range fs.nodes {
		if under(q, p) && m.dir() && len(m.snapshots) > 0 {
			return false, raise(errSnapshot, "The directory %s cannot be deleted since %s is snapshottable and already has snapshots", p, q)
		}
	}
	for q := range fs.nodes {
		if under(q, p) {
			delete(fs.nodes, q)
		}
	}
	fs.touchLocked(path.Dir(p))
	return true, nil
}

// concat appends the sources' data to p and deletes the sources.
func (fs *fileSystem) concat(u *caller, p string, sources []string) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	target, err := fs.fileLocked(p)
	if err != nil {
		return err
	}
	if err := fs.check(u, p, target, permWrite); err != nil {
		return err
	}
	if len(sources) == 0 {
		return raise(errIllegalArgument, "No sources given")
	}
	seen := map[string]bool{}
	for _, s := range sources {
		src, err := fs.fileLocked(s)
		switch {
		case err != nil:
			return err
		case s == p:
			return raise(errIllegalArgument, "concat: target file %s is in the source list", p)
		case seen[s]:
			return raise(errIllegalArgument, "concat: repeated source %s", s)
		case path.Dir(s) != path.Dir(p):
			return raise(errIllegalArgument, "concat: source file %s and target file %s should be in the same directory", s, p)
		case len(src.data) == 0:
			return raise(errIllegalArgument, "concat: source file %s is invalid or empty or underConstruction", s)
		}
		seen[s] = true
		if err := fs.checkParentWrite(u, s); err != nil {
			return err
		}
	}
	for _, s := range sources {
		target.data = append(target.data, fs.nodes[s].data...)
		delete(fs.nodes, s)
	}
	target.mtime = fs.now().UnixMilli()
	fs.touchLocked(path.Dir(p))
	return nil
}

// truncate shortens the file at p to newLength. HDFS answers true when
// nothing is left to do and false when it must first recover the last
// block; in memory that never happens.
func (fs *fileSystem) truncate(u *caller, p string, newLength int64) (bool, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.fileLocked(p)
	if err != nil {
		return false, err
	}
	if err := fs.check(u, p, n, permWrite); err != nil {
		return false, err
	}
	if newLength > int64(len(n.data)) {
		return false, raise(errIllegalArgument, "Cannot truncate to a larger file size. Current size: %d, truncate size: %d.", len(n.data), newLength)
	}
	n.data = n.data[:newLength]
	n.mtime = fs.now().UnixMilli()
	return true, nil
}

// createSymlink makes a link at p to target.
func (fs *fileSystem) createSymlink(u *caller, target, p string, createParent bool) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.readOnlySnapshot(p); err != nil {
		return err
	}
	if fs.nodes[p] != nil {
		return raise(errExists, "failed to create link %s because link path already exists", p)
	}
	if fs.nodes[path.Dir(p)] == nil && !createParent {
		return raise(errNotFound, "Parent directory doesn't exist: %s", path.Dir(p))
	}
	if err := fs.mkdirAll(u, path.Dir(p), 0o755, errParentNotDir); err != nil {
		return err
	}
	if err := fs.checkParentWrite(u, p); err != nil {
		return err
	}
	n := fs.newInode(kindSymlink, 0o777, u.name, fs.nodes[path.Dir(p)].group)
	n.target = target
	fs.nodes[p] = n
	fs.touchLocked(path.Dir(p))
	return nil
}

// linkTarget is GETLINKTARGET.
func (fs *fileSystem) linkTarget(u *caller, p string) (string, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return "", err
	}
	n, err := fs.nodeLocked(p)
	if err != nil {
		return "", err
	}
	if !n.symlink() {
		return "", raise(errIO, "Path %s is not a symbolic link", p)
	}
	return n.target, nil
}

// homeDirectory and trashRoot are FileSystem's defaults.
func homeDirectory(user string) string { return "/user/" + user }

func trashRoot(user string) string { return homeDirectory(user) + "/.Trash" }

// strconvOctal formats n in octal.
func strconvOctal(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b [24]byte
	i := len(b)
	for ; n > 0; n /= 8 {
		i--
		b[i] = byte('0' + n%8)
	}
	return string(b[i:])
}
