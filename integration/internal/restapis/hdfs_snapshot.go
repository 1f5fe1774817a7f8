package restapis

import (
	"bytes"
	"path"
	"slices"
	"strings"
)

// Snapshots: a snapshottable directory keeps frozen copies of its tree,
// readable under dir/.snapshot/name, and answers differences between them.

func errNotSnapshottable(p string) *remoteError {
	return raise(errSnapshot, "Directory is not a snapshottable directory: %s", p)
}

func (fs *fileSystem) allowSnapshot(u *caller, p string, allow bool) *remoteError {
	if err := checkSuperuser(u); err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.liveNode(u, p)
	if err != nil {
		return err
	}
	if !n.dir() {
		return raise(errPathIsNotDir, "`%s': Is not a directory", p)
	}
	if !allow && len(n.snapshots) > 0 {
		return raise(errSnapshot, "The directory %s has snapshot(s). Please redo the operation after removing all the snapshots.", p)
	}
	n.snapshottable = allow
	return nil
}

// snapshotDirLocked is the snapshottable directory at p, if u owns it;
// fs.mu must be held.
func (fs *fileSystem) snapshotDirLocked(u *caller, p string) (*inode, *remoteError) {
	n, err := fs.liveNode(u, p)
	if err != nil {
		return nil, err
	}
	if !n.dir() || !n.snapshottable {
		return nil, errNotSnapshottable(p)
	}
	if err := checkOwner(u, p, n); err != nil {
		return nil, err
	}
	return n, nil
}

// createSnapshot freezes the tree at p; the name defaults to one from the
// time, as HDFS makes it.
func (fs *fileSystem) createSnapshot(u *caller, p, name string) (string, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, err := fs.snapshotDirLocked(u, p)
	if err != nil {
		return "", err
	}
	now := fs.now()
	if name == "" {
		name = "s" + now.UTC().Format("20060102-150405.000")
	}
	if err := checkSnapshotName(name); err != nil {
		return "", err
	}
	if d.findSnapshot(name) != nil {
		return "", raise(errSnapshot, "Failed to add snapshot: there is already a snapshot with the same name \"%s\".", name)
	}
	s := &snapshot{name: name, id: fs.nextSn, ctime: now.UnixMilli(), nodes: map[string]*inode{}}
	fs.nextSn++
	for q, n := range fs.nodes {
		if under(q, p) {
			rel := strings.TrimPrefix(strings.TrimPrefix(q, p), "/")
			s.nodes[rel] = n.clone()
		}
	}
	d.snapshots = append(d.snapshots, s)
	d.mtime = now.UnixMilli()
	return path.Join(p, ".snapshot", name), nil
}

func checkSnapshotName(name string) *remoteError {
	if strings.Contains(name, "/") || name == "." || name == ".." || name == ".snapshot" {
		return raise(errHadoopIllegalArgument, "Invalid path name Invalid snapshot name: %s", name)
	}
	return nil
}

func (fs *fileSystem) deleteSnapshot(u *caller, p, name string) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, err := fs.snapshotDirLocked(u, p)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(d.snapshots, func(s *snapshot) bool { return s.name == name })
	if i < 0 {
		return raise(errSnapshot, "Cannot delete snapshot %s from path %s: the snapshot does not exist.", name, p)
	}
	d.snapshots = slices.Delete(d.snapshots, i, i+1)
	return nil
}

func (fs *fileSystem) renameSnapshot(u *caller, p, oldName, newName string) *remoteError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, err := fs.snapshotDirLocked(u, p)
	if err != nil {
		return err
	}
	if err := checkSnapshotName(newName); err != nil {
		return err
	}
	s := d.findSnapshot(oldName)
	switch {
	case s == nil:
		return raise(errSnapshot, "The snapshot %s does not exist for directory %s", oldName, p)
	case oldName == newName:
		return nil
	case d.findSnapshot(newName) != nil:
		return raise(errSnapshot, "The snapshot %s already exists for directory %s", newName, p)
	}
	s.name = newName
	return nil
}

// snapshottableDirs is GETSNAPSHOTTABLEDIRECTORYLIST: nil when there are
// none, as the namenode answers null.
func (fs *fileSystem) snapshottableDirs(u *caller) []map[string]any {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []map[string]any
	var paths []string
	for p, n := range fs.nodes {
		if n.dir() && n.snapshottable && (u.super() || u.name == n.owner) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		n := fs.nodes[p]
		out = append(out, map[string]any{
			"dirStatus":      status(fs.nodes, p, path.Base(p), n),
			"parentFullPath": path.Dir(p),
			"snapshotNumber": len(n.snapshots),
			"snapshotQuota":  snapshotQuota,
		})
	}
	return out
}

// readSnapshottableLocked is the snapshottable directory at p for reading
// by u; fs.mu must be held.
func (fs *fileSystem) readSnapshottableLocked(u *caller, p string) (*inode, *remoteError) {
	if err := fs.traverse(u, p); err != nil {
		return nil, err
	}
	d, err := fs.nodeLocked(p)
	if err != nil {
		return nil, err
	}
	if !d.dir() || !d.snapshottable {
		return nil, errNotSnapshottable(p)
	}
	return d, nil
}

// snapshotList is GETSNAPSHOTLIST.
func (fs *fileSystem) snapshotList(u *caller, p string) ([]map[string]any, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, err := fs.readSnapshottableLocked(u, p)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, s := range d.snapshots {
		root := s.nodes[""].clone()
		root.mtime = s.ctime
		nodes := map[string]*inode{}
		for rel, n := range s.nodes {
			nodes[path.Join(p, rel)] = n
		}
		out = append(out, map[string]any{
			"dirStatus":      status(nodes, p, s.name, root),
			"fullPath":       path.Dir(p),
			"snapshotID":     s.id,
			"deletionStatus": "ACTIVE",
		})
	}
	return out, nil
}

// diffEntry is one difference between two states of a snapshottable tree.
type diffEntry struct {
	typ        string // CREATE, MODIFY, DELETE
	sourcePath string // relative to the snapshot root
	dirID      int64
	fileID     int64
}

// stateLocked is the tree of d at p as the snapshot name froze it, or as
// it is now for ""; fs.mu must be held.
func (fs *fileSystem) stateLocked(p string, d *inode, name string) (map[string]*inode, *remoteError) {
	if name == "" {
		nodes := map[string]*inode{}
		for q, n := range fs.nodes {
			if under(q, p) {
				nodes[strings.TrimPrefix(strings.TrimPrefix(q, p), "/")] = n
			}
		}
		return nodes, nil
	}
	s := d.findSnapshot(name)
	if s == nil {
		return nil, raise(errSnapshot, "Cannot find the snapshot of directory %s with name %s", p, name)
	}
	return s.nodes, nil
}

// diff compares two states of the tree at p: what was created, deleted
// and modified from the earlier to the later. A deleted directory is one
// entry, not one per descendant; a directory whose entries changed is
// modified. A rename shows as a deletion and a creation.
func (fs *fileSystem) diff(u *caller, p, from, to string) ([]diffEntry, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, err := fs.readSnapshottableLocked(u, p)
	if err != nil {
		return nil, err
	}
	if err := fs.check(u, p, d, permRead|permExec); err != nil {
		return nil, err
	}
	before, err := fs.stateLocked(p, d, from)
	if err != nil {
		return nil, err
	}
	after, err := fs.stateLocked(p, d, to)
	if err != nil {
		return nil, err
	}
	var out []diffEntry
	modifiedDirs := map[string]bool{}
	parentOf := func(rel string) string {
		if dir := path.Dir(rel); dir != "." {
			return dir
		}
		return ""
	}
	// missingAbove reports whether an ancestor of rel is missing from
	// nodes: then rel's own creation or deletion is not reported.
	missingAbove := func(nodes map[string]*inode, rel string) bool {
		for dir := parentOf(rel); ; dir = parentOf(dir) {
			if _, ok := nodes[dir]; !ok {
				return true
			}
			if dir == "" {
				return false
			}
		}
	}
	idOf := func(nodes map[string]*inode, rel string) (dirID, fileID int64) {
		if parent := nodes[parentOf(rel)]; parent != nil {
			dirID = parent.id
		}
		return dirID, nodes[rel].id
	}
	for rel := range before {
		if _, ok := after[rel]; ok || rel == "" || missingAbove(after, rel) {
			continue
		}
		dirID, fileID := idOf(before, rel)
		out = append(out, diffEntry{typ: "DELETE", sourcePath: rel, dirID: dirID, fileID: fileID})
		modifiedDirs[parentOf(rel)] = true
	}
	for rel := range after {
		if _, ok := before[rel]; ok || rel == "" || missingAbove(before, rel) {
			continue
		}
		dirID, fileID := idOf(after, rel)
		out = append(out, diffEntry{typ: "CREATE", sourcePath: rel, dirID: dirID, fileID: fileID})
		modifiedDirs[parentOf(rel)] = true
	}
	for rel, a := range after {
		b, ok := before[rel]
		if !ok {
			continue
		}
		changed := !a.dir() && (!bytes.Equal(a.data, b.data) || a.perm != b.perm || a.owner != b.owner || a.group != b.group)
		if changed || modifiedDirs[rel] || a.dir() && (a.perm != b.perm || a.owner != b.owner || a.group != b.group) {
			dirID, fileID := idOf(after, rel)
			out = append(out, diffEntry{typ: "MODIFY", sourcePath: rel, dirID: dirID, fileID: fileID})
		}
	}
	order := map[string]int{"MODIFY": 0, "CREATE": 1, "DELETE": 2}
	slices.SortFunc(out, func(a, b diffEntry) int {
		if order[a.typ] != order[b.typ] {
			return order[a.typ] - order[b.typ]
		}
		return strings.Compare(a.sourcePath, b.sourcePath)
	})
	return out, nil
}
