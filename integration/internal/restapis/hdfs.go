package restapis

import (
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// inode is a file or directory of the in-memory HDFS.
type inode struct {
	dir          bool
	data         []byte
	perm         uint32
	owner        string
	id           int64
	mtime, atime int64 // milliseconds since the epoch
	replication  int32
	blockSize    int64
}

// fileSystem is the namespace the namenode and datanode handlers share.
type fileSystem struct {
	mu     sync.Mutex        // guards nodes and nextID
	nodes  map[string]*inode // by clean absolute path; "/" is always there
	nextID int64
}

// firstInodeID is the id HDFS gives its first inode after the root.
const firstInodeID = 16386

func newFileSystem() *fileSystem {
	fs := &fileSystem{nodes: map[string]*inode{}, nextID: firstInodeID}
	fs.nodes["/"] = fs.newInode(&inode{dir: true, perm: 0o755, owner: "hdfs"})
	return fs
}

// newInode stamps n with an id and the current time; fs.mu must be held
// (or fs not yet shared).
func (fs *fileSystem) newInode(n *inode) *inode {
	n.id = fs.nextID
	fs.nextID++
	n.mtime = time.Now().UnixMilli()
	n.atime = n.mtime
	if n.dir {
		n.replication, n.blockSize = 0, 0
	}
	return n
}

// fileStatus is WebHDFS's FileStatus JSON object.
type fileStatus struct {
	PathSuffix       string `json:"pathSuffix"`
	Type             string `json:"type"`
	Length           int64  `json:"length"`
	Owner            string `json:"owner"`
	Group            string `json:"group"`
	Permission       string `json:"permission"`
	AccessTime       int64  `json:"accessTime"`
	ModificationTime int64  `json:"modificationTime"`
	BlockSize        int64  `json:"blockSize"`
	Replication      int32  `json:"replication"`
	ChildrenNum      int32  `json:"childrenNum"`
	FileID           int64  `json:"fileId"`
	StoragePolicy    int32  `json:"storagePolicy"`
}

// contentSummary is WebHDFS's ContentSummary JSON object.
type contentSummary struct {
	DirectoryCount int64          `json:"directoryCount"`
	FileCount      int64          `json:"fileCount"`
	Length         int64          `json:"length"`
	Quota          int64          `json:"quota"`
	SpaceConsumed  int64          `json:"spaceConsumed"`
	SpaceQuota     int64          `json:"spaceQuota"`
	TypeQuota      map[string]any `json:"typeQuota"`
}

// status describes the node at p; fs.mu must be held.
func (fs *fileSystem) status(p, suffix string, n *inode) fileStatus {
	st := fileStatus{
		PathSuffix: suffix, Type: "FILE", Length: int64(len(n.data)),
		Owner: n.owner, Group: "supergroup", Permission: strconv.FormatUint(uint64(n.perm), 8),
		AccessTime: n.atime, ModificationTime: n.mtime, BlockSize: n.blockSize,
		Replication: n.replication, FileID: n.id,
	}
	if n.dir {
		st.Type, st.AccessTime = "DIRECTORY", 0
		st.ChildrenNum = int32(len(fs.children(p)))
	}
	return st
}

// children lists the names directly under directory p, sorted; fs.mu
// must be held.
func (fs *fileSystem) children(p string) []string {
	var names []string
	for q := range fs.nodes {
		if q != "/" && path.Dir(q) == p {
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

func (fs *fileSystem) stat(p string) (fileStatus, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.nodes[p]
	if n == nil {
		return fileStatus{}, notFound(p)
	}
	return fs.status(p, "", n), nil
}

func (fs *fileSystem) list(p string) ([]fileStatus, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.nodes[p]
	switch {
	case n == nil:
		return nil, notFound(p)
	case !n.dir:
		return []fileStatus{fs.status(p, "", n)}, nil
	}
	list := []fileStatus{}
	for _, name := range fs.children(p) {
		q := path.Join(p, name)
		list = append(list, fs.status(q, name, fs.nodes[q]))
	}
	return list, nil
}

func (fs *fileSystem) contentSummary(p string) (contentSummary, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.nodes[p] == nil {
		return contentSummary{}, notFound(p)
	}
	sum := contentSummary{Quota: -1, SpaceQuota: -1, TypeQuota: map[string]any{}}
	for q, n := range fs.nodes {
		switch {
		case !under(q, p):
		case n.dir:
			sum.DirectoryCount++
		default:
			sum.FileCount++
			sum.Length += int64(len(n.data))
			sum.SpaceConsumed += int64(len(n.data)) * int64(n.replication)
		}
	}
	return sum, nil
}

// mkdirAll makes p and its missing parents directories; fs.mu must be
// held. A file in the way is a notDir exception for p itself and a
// ParentNotDirectoryException above it.
func (fs *fileSystem) mkdirAll(p string, perm uint32, owner string, notDir exceptionClass) *remoteError {
	if p != "/" {
		if err := fs.mkdirAll(path.Dir(p), perm, owner, errParentNotDir); err != nil {
			return err
		}
	}
	switch n := fs.nodes[p]; {
	case n == nil:
		fs.nodes[p] = fs.newInode(&inode{dir: true, perm: perm, owner: owner})
	case !n.dir:
		return raise(notDir, "Path is not a directory: %s", p)
	}
	return nil
}

func (fs *fileSystem) mkdirs(p string, perm uint32, owner string) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.mkdirAll(p, perm, owner, errExists)
}

// checkCreateLocked says whether a file may be created at p; fs.mu must be
// held.
func (fs *fileSystem) checkCreateLocked(p string, overwrite bool) *remoteError {
	for q := path.Dir(p); ; q = path.Dir(q) {
		if n := fs.nodes[q]; n != nil && !n.dir {
			return raise(errParentNotDir, "Path is not a directory: %s", q)
		}
		if q == "/" {
			break
		}
	}
	switch n := fs.nodes[p]; {
	case p == "/" || n != nil && n.dir:
		return raise(errExists, "%s already exists as a directory", p)
	case n != nil && !overwrite:
		return raise(errExists, "%s for client already exists", p)
	}
	return nil
}

func (fs *fileSystem) checkCreate(p string, overwrite bool) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.checkCreateLocked(p, overwrite)
}

// createFile stores f at p, creating missing parents.
func (fs *fileSystem) createFile(p string, f *inode, overwrite bool) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.checkCreateLocked(p, overwrite); err != nil {
		return err
	}
	if err := fs.mkdirAll(path.Dir(p), 0o755, f.owner, errParentNotDir); err != nil {
		return err
	}
	fs.nodes[p] = fs.newInode(f)
	return nil
}

// fileLocked returns the file at p; fs.mu must be held.
func (fs *fileSystem) fileLocked(p string) (*inode, *remoteError) {
	n := fs.nodes[p]
	switch {
	case n == nil:
		return nil, notFound(p)
	case n.dir:
		return nil, raise(errNotFound, "Path is not a file: %s", p)
	}
	return n, nil
}

func (fs *fileSystem) checkFile(p string) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	_, err := fs.fileLocked(p)
	return err
}

func (fs *fileSystem) appendFile(p string, data []byte) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.fileLocked(p)
	if err != nil {
		return err
	}
	n.data = append(n.data, data...)
	n.mtime = time.Now().UnixMilli()
	return nil
}

// read returns length bytes of the file at p from offset (length < 0: to
// the end).
func (fs *fileSystem) read(p string, offset, length int64) ([]byte, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.fileLocked(p)
	if err != nil {
		return nil, err
	}
	size := int64(len(n.data))
	if offset > size {
		return nil, raise(errIO, "Offset=%d out of the range [0, %d]", offset, size)
	}
	end := size
	if length >= 0 && offset+length < size {
		end = offset + length
	}
	n.atime = time.Now().UnixMilli()
	return slices.Clone(n.data[offset:end]), nil
}

// rename moves src to dst with HDFS's rename semantics: into dst when it
// is a directory, and false (nothing moved) when src is missing, dst
// exists (as a file, or as dst/name), dst's parent is missing, or dst is
// below src.
func (fs *fileSystem) rename(src, dst string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.nodes[src] == nil || src == "/" {
		return false
	}
	if n := fs.nodes[dst]; n != nil && n.dir && dst != src {
		dst = path.Join(dst, path.Base(src))
	}
	if dst == src {
		return true
	}
	if parent := fs.nodes[path.Dir(dst)]; fs.nodes[dst] != nil || parent == nil || !parent.dir || under(dst, src) {
		return false
	}
	moved := map[string]*inode{}
	for q, n := range fs.nodes {
		if under(q, src) {
			moved[dst+strings.TrimPrefix(q, src)] = n
			delete(fs.nodes, q)
		}
	}
	maps.Copy(fs.nodes, moved)
	fs.nodes[path.Dir(dst)].mtime = time.Now().UnixMilli()
	return true
}

// remove deletes p (and with recursive what is below it); false when p
// does not exist or is the root.
func (fs *fileSystem) remove(p string, recursive bool) (bool, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.nodes[p]
	if n == nil || p == "/" {
		return false, nil
	}
	if n.dir && !recursive && len(fs.children(p)) > 0 {
		return false, raise(errNotEmpty, "`%s is non empty': Directory is not empty", p)
	}
	for q := range fs.nodes {
		if under(q, p) {
			delete(fs.nodes, q)
		}
	}
	return true, nil
}
