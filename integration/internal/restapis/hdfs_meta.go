package restapis

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"path"
	"slices"
	"strings"
)

// Extended attributes, storage and erasure coding policies, quotas and
// the numbers HDFS computes about files (content summaries, checksums,
// block locations).

// xattrNamespaces are the prefixes an xattr name must start with.
var xattrNamespaces = []string{"user.", "trusted.", "system.", "security.", "raw."}

func checkXAttrName(name string) *remoteError {
	for _, ns := range xattrNamespaces {
		if strings.HasPrefix(name, ns) && len(name) > len(ns) {
			return nil
		}
	}
	return raise(errHadoopIllegalArgument, "An XAttr name must be prefixed with user/trusted/security/system/raw, followed by a '.'")
}

// xattrAccess checks what HDFS checks for an xattr: the trusted namespace
// is the superuser's, the user namespace needs the given access.
func (fs *fileSystem) xattrAccess(u *caller, p string, n *inode, name string, want uint16) *remoteError {
	switch {
	case strings.HasPrefix(name, "trusted.") || strings.HasPrefix(name, "raw."):
		if !u.super() {
			return raise(errAccessControl, "User doesn't have permission for xattr: %s", name)
		}
		return nil
	case strings.HasPrefix(name, "user."):
		return fs.check(u, p, n, want)
	}
	return nil
}

// decodeXAttrValue is XAttrCodec.decodeValue.
func decodeXAttrValue(v string) ([]byte, *remoteError) {
	switch {
	case len(v) >= 2 && strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`):
		return []byte(v[1 : len(v)-1]), nil
	case strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X"):
		b, err := hex.DecodeString(v[2:])
		if err != nil {
			return nil, raise(errIO, "Invalid hex value: %s", v)
		}
		return b, nil
	case strings.HasPrefix(v, "0s") || strings.HasPrefix(v, "0S"):
		b, err := base64.StdEncoding.DecodeString(v[2:])
		if err != nil {
			return nil, raise(errIO, "Invalid base64 value: %s", v)
		}
		return b, nil
	}
	return []byte(v), nil
}

// encodeXAttrValue is XAttrCodec.encodeValue.
func encodeXAttrValue(b []byte, encoding string) string {
	switch encoding {
	case "hex":
		return "0x" + hex.EncodeToString(b)
	case "base64":
		return "0s" + base64.StdEncoding.EncodeToString(b)
	}
	return `"` + string(b) + `"`
}

func (fs *fileSystem) setXAttr(u *caller, p, name, value, flag string) *remoteError {
	if err := checkXAttrName(name); err != nil {
		return err
	}
	v, err := decodeXAttrValue(value)
	if err != nil {
		return err
	}
	return fs.change(u, p, func(n *inode) *remoteError {
		if err := fs.xattrAccess(u, p, n, name, permWrite); err != nil {
			return err
		}
		_, exists := n.xattrs[name]
		switch {
		case flag == "CREATE" && exists:
			return raise(errIO, "XAttr: %s already exists. The REPLACE flag must be specified.", name)
		case flag == "REPLACE" && !exists:
			return raise(errIO, "XAttr: %s does not exist. The CREATE flag must be specified.", name)
		}
		if n.xattrs == nil {
			n.xattrs = map[string][]byte{}
		}
		n.xattrs[name] = v
		return nil
	})
}

func (fs *fileSystem) removeXAttr(u *caller, p, name string) *remoteError {
	if err := checkXAttrName(name); err != nil {
		return err
	}
	return fs.change(u, p, func(n *inode) *remoteError {
		if err := fs.xattrAccess(u, p, n, name, permWrite); err != nil {
			return err
		}
		if _, ok := n.xattrs[name]; !ok {
			return raise(errIO, "No matching attributes found for remove operation")
		}
		delete(n.xattrs, name)
		return nil
	})
}

// xattr is GETXATTRS's entry.
type xattr struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// getXAttrs answers the named attributes (all the caller may read when
// names is empty), sorted by name.
func (fs *fileSystem) getXAttrs(u *caller, p string, names []string, encoding string) ([]xattr, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return nil, err
	}
	r, rerr := fs.lookupLocked(p)
	if rerr != nil {
		return nil, rerr
	}
	n := r.node
	if len(names) == 0 {
		for name := range n.xattrs {
			if fs.xattrAccess(u, p, n, name, permRead) == nil {
				names = append(names, name)
			}
		}
	} else {
		for _, name := range names {
			if err := checkXAttrName(name); err != nil {
				return nil, err
			}
			if err := fs.xattrAccess(u, p, n, name, permRead); err != nil {
				return nil, err
			}
			if _, ok := n.xattrs[name]; !ok {
				return nil, raise(errIO, "At least one of the attributes provided was not found.")
			}
		}
	}
	slices.Sort(names)
	out := []xattr{}
	for _, name := range names {
		v := encodeXAttrValue(n.xattrs[name], encoding)
		out = append(out, xattr{Name: name, Value: &v})
	}
	return out, nil
}

// listXAttrs is LISTXATTRS: the names, as a JSON array in a string.
func (fs *fileSystem) listXAttrs(u *caller, p string) (string, *remoteError) {
	list, err := fs.getXAttrs(u, p, nil, "text")
	if err != nil {
		return "", err
	}
	names := []string{}
	for _, x := range list {
		names = append(names, x.Name)
	}
	b, _ := json.Marshal(names)
	return string(b), nil
}

// blockStoragePolicy is HDFS's BlockStoragePolicy.
type blockStoragePolicy struct {
	ID                   byte     `json:"id"`
	Name                 string   `json:"name"`
	StorageTypes         []string `json:"storageTypes"`
	CreationFallbacks    []string `json:"creationFallbacks"`
	ReplicationFallbacks []string `json:"replicationFallbacks"`
	CopyOnCreateFile     bool     `json:"copyOnCreateFile"`
}

// storagePolicies are BlockStoragePolicySuite's built-in policies.
var storagePolicies = []blockStoragePolicy{
	{1, "PROVIDED", []string{"PROVIDED", "DISK"}, []string{"PROVIDED", "DISK"}, []string{"PROVIDED", "DISK"}, false},
	{2, "COLD", []string{"ARCHIVE"}, []string{}, []string{}, false},
	{5, "WARM", []string{"DISK", "ARCHIVE"}, []string{"DISK", "ARCHIVE"}, []string{"DISK", "ARCHIVE"}, false},
	{7, "HOT", []string{"DISK"}, []string{}, []string{"ARCHIVE"}, false},
	{10, "ONE_SSD", []string{"SSD", "DISK"}, []string{"SSD", "DISK"}, []string{"SSD", "DISK"}, false},
	{12, "ALL_SSD", []string{"SSD"}, []string{"DISK"}, []string{"DISK"}, false},
	{14, "ALL_NVDIMM", []string{"NVDIMM"}, []string{"DISK"}, []string{"DISK"}, false},
	{15, "LAZY_PERSIST", []string{"RAM_DISK", "DISK"}, []string{"DISK"}, []string{"DISK"}, true},
}

const defaultStoragePolicy = 7 // HOT

func storagePolicyByID(id byte) blockStoragePolicy {
	for _, p := range storagePolicies {
		if p.ID == id {
			return p
		}
	}
	return storagePolicyByID(defaultStoragePolicy)
}

// effectivePolicyLocked is the policy set on p or its nearest ancestor;
// fs.mu must be held.
func (fs *fileSystem) effectivePolicyLocked(p string) blockStoragePolicy {
	for q := p; ; q = path.Dir(q) {
		if n := fs.nodes[q]; n != nil && n.storagePolicy != 0 {
			return storagePolicyByID(n.storagePolicy)
		}
		if q == "/" {
			return storagePolicyByID(defaultStoragePolicy)
		}
	}
}

func (fs *fileSystem) setStoragePolicy(u *caller, p, name string) *remoteError {
	i := slices.IndexFunc(storagePolicies, func(sp blockStoragePolicy) bool { return sp.Name == strings.ToUpper(name) })
	if i < 0 {
		return raise(errHadoopIllegalArgument, "Cannot find a block policy with the name %s", name)
	}
	return fs.change(u, p, func(n *inode) *remoteError {
		if err := fs.check(u, p, n, permWrite); err != nil {
			return err
		}
		n.storagePolicy = storagePolicies[i].ID
		return nil
	})
}

func (fs *fileSystem) unsetStoragePolicy(u *caller, p string) *remoteError {
	return fs.change(u, p, func(n *inode) *remoteError {
		if err := fs.check(u, p, n, permWrite); err != nil {
			return err
		}
		n.storagePolicy = 0
		return nil
	})
}

func (fs *fileSystem) storagePolicy(u *caller, p string) (blockStoragePolicy, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return blockStoragePolicy{}, err
	}
	if _, err := fs.nodeLocked(p); err != nil {
		return blockStoragePolicy{}, err
	}
	return fs.effectivePolicyLocked(p), nil
}

// satisfyStoragePolicy queues the path for the storage policy satisfier
// (run here as dfs.storage.policy.satisfier.mode=external).
func (fs *fileSystem) satisfyStoragePolicy(u *caller, p string) *remoteError {
	return fs.change(u, p, func(n *inode) *remoteError { return fs.check(u, p, n, permWrite) })
}

// ecPolicy is an ErasureCodingPolicy.
type ecPolicy struct {
	Name           string
	ID             byte
	NumDataUnits   int
	NumParityUnits int
	CellSize       int
	Codec          string
}

// asMap is JsonUtil.getEcPolicyAsMap, as GETECPOLICY and ecPolicyObj
// answer it.
func (p ecPolicy) asMap() map[string]any {
	return map[string]any{
		"name": p.Name, "cellSize": p.CellSize, "numDataUnits": p.NumDataUnits,
		"numParityUnits": p.NumParityUnits, "codecName": p.Codec, "id": p.ID, "extraOptions": map[string]string{},
	}
}

// full is the policy as GETECPOLICIES lists it.
func (p ecPolicy) full() map[string]any {
	m := p.asMap()
	m["schema"] = map[string]any{"codecName": p.Codec, "numDataUnits": p.NumDataUnits, "numParityUnits": p.NumParityUnits, "extraOptions": map[string]string{}}
	m["replicationPolicy"] = false
	m["systemPolicy"] = true
	delete(m, "extraOptions")
	return m
}

// ecPolicies are SystemErasureCodingPolicies; RS-6-3-1024k is the one
// enabled by default (dfs.namenode.ec.system.default.policy).
var ecPolicies = []ecPolicy{
	{"RS-6-3-1024k", 1, 6, 3, 1 << 20, "rs"},
	{"RS-3-2-1024k", 2, 3, 2, 1 << 20, "rs"},
	{"RS-LEGACY-6-3-1024k", 3, 6, 3, 1 << 20, "rs-legacy"},
	{"XOR-2-1-1024k", 4, 2, 1, 1 << 20, "xor"},
	{"RS-10-4-1024k", 5, 10, 4, 1 << 20, "rs"},
}

const defaultECPolicy = "RS-6-3-1024k"

func ecPolicyByName(name string) ecPolicy {
	for _, p := range ecPolicies {
		if p.Name == name {
			return p
		}
	}
	return ecPolicy{Name: name}
}

func knownECPolicy(name string) bool {
	return slices.ContainsFunc(ecPolicies, func(p ecPolicy) bool { return p.Name == name })
}

func (fs *fileSystem) setECPolicyEnabled(u *caller, name string, enabled bool) *remoteError {
	if err := checkSuperuser(u); err != nil {
		return err
	}
	if !knownECPolicy(name) {
		return raise(errHadoopIllegalArgument, "The policy name %s does not exist", name)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.ec[name] = enabled
	return nil
}

func (fs *fileSystem) enabledECPoliciesLocked() []string {
	var names []string
	for _, p := range ecPolicies {
		if fs.ec[p.Name] {
			names = append(names, p.Name)
		}
	}
	return names
}

// setECPolicy sets a directory's erasure coding policy ("" unsets it).
func (fs *fileSystem) setECPolicy(u *caller, p, name string) *remoteError {
	return fs.change(u, p, func(n *inode) *remoteError {
		if err := fs.check(u, p, n, permWrite); err != nil {
			return err
		}
		if !n.dir() {
			return raise(errIO, "Attempt to set an erasure coding policy for a file %s", p)
		}
		if name == "" {
			if n.ecPolicy == "" {
				return raise(errIO, "No erasure coding policy explicitly set on %s", p)
			}
			n.ecPolicy = ""
			return nil
		}
		if !fs.ec[name] {
			return raise(errHadoopIllegalArgument, "Policy '%s' does not match any enabled erasure coding policies: %v. An erasure coding policy can be enabled by enableErasureCodingPolicy API.",
				name, fs.enabledECPoliciesLocked())
		}
		n.ecPolicy = name
		return nil
	})
}

// effectiveECLocked is the policy on p or its nearest ancestor; fs.mu
// must be held.
func (fs *fileSystem) effectiveECLocked(p string) string {
	for q := p; ; q = path.Dir(q) {
		if n := fs.nodes[q]; n != nil && n.ecPolicy != "" {
			return n.ecPolicy
		}
		if q == "/" {
			return ""
		}
	}
}

// ecPolicyOf is GETECPOLICY: nil when p is replicated.
func (fs *fileSystem) ecPolicyOf(u *caller, p string) (map[string]any, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return nil, err
	}
	if _, err := fs.nodeLocked(p); err != nil {
		return nil, err
	}
	if name := fs.effectiveECLocked(p); name != "" {
		return ecPolicyByName(name).asMap(), nil
	}
	return nil, nil
}

// ecPolicyInfos is GETECPOLICIES.
func (fs *fileSystem) ecPolicyInfos() []map[string]any {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := []map[string]any{}
	for _, p := range ecPolicies {
		state := "DISABLED"
		if fs.ec[p.Name] {
			state = "ENABLED"
		}
		out = append(out, map[string]any{"state": state, "policy": p.full()})
	}
	return out
}

// usage is what a tree holds: names, bytes with replication, bytes by
// storage type.
type usage struct {
	dirs, files, length, consumed int64
	byType                        map[string]int64
}

// usageLocked adds up the tree at p; fs.mu must be held.
func (fs *fileSystem) usageLocked(p string) usage {
	u := usage{byType: map[string]int64{}}
	for q, n := range fs.nodes {
		if !under(q, p) {
			continue
		}
		switch n.kind {
		case kindDir:
			u.dirs++
		default:
			u.files++
			size := int64(len(n.data))
			consumed := size * int64(n.replication)
			if n.ecPolicy != "" {
				ec := ecPolicyByName(n.ecPolicy)
				consumed = size + size*int64(ec.NumParityUnits)/int64(max(ec.NumDataUnits, 1))
			}
			u.length += size
			u.consumed += consumed
			u.byType[fs.effectivePolicyLocked(q).StorageTypes[0]] += consumed
		}
	}
	return u
}

// chargeLocked checks the quotas of p's ancestors against names and bytes
// more, with replaced (an overwritten file) counted out; fs.mu must be
// held.
func (fs *fileSystem) chargeLocked(p string, names, bytes int64, replaced *inode) *remoteError {
	if replaced != nil {
		names--
		bytes -= int64(len(replaced.data)) * int64(replaced.replication)
	}
	for q := path.Dir(p); ; q = path.Dir(q) {
		n := fs.nodes[q]
		if n != nil && (n.nsQuota >= 0 || n.ssQuota >= 0) {
			u := fs.usageLocked(q)
			if count := u.dirs + u.files + names; n.nsQuota >= 0 && names > 0 && count > n.nsQuota {
				return raise(errNSQuota, "The NameSpace quota (directories and files) of directory %s is exceeded: quota=%d file count=%d", q, n.nsQuota, count)
			}
			if consumed := u.consumed + bytes; n.ssQuota >= 0 && bytes > 0 && consumed > n.ssQuota {
				return raise(errDSQuota, "The DiskSpace quota of %s is exceeded: quota = %d B = %s but diskspace consumed = %d B = %s",
					q, n.ssQuota, byteDesc(n.ssQuota), consumed, byteDesc(consumed))
			}
		}
		if q == "/" {
			return nil
		}
	}
}

// byteDesc is StringUtils.byteDesc.
func byteDesc(n int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", f), "0"), ".0") + " " + units[i]
}

func (fs *fileSystem) setQuota(u *caller, p string, ns, ss int64, storageType string) *remoteError {
	if err := checkSuperuser(u); err != nil {
		return err
	}
	return fs.change(u, p, func(n *inode) *remoteError {
		if !n.dir() {
			return raise(errFileNotDir, "Cannot set quota on a file: %s", p)
		}
		if storageType != "" {
			if n.typeQuota == nil {
				n.typeQuota = map[string]int64{}
			}
			if ss < 0 {
				delete(n.typeQuota, storageType)
			} else {
				n.typeQuota[storageType] = ss
			}
			return nil
		}
		n.nsQuota, n.ssQuota = ns, ss
		return nil
	})
}

// typeQuotaJSON is ContentSummary's and QuotaUsage's typeQuota.
func typeQuotaJSON(n *inode, u usage) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for t, q := range n.typeQuota {
		out[t] = map[string]int64{"quota": q, "consumed": u.byType[t]}
	}
	return out
}

// contentSummary is WebHDFS's ContentSummary JSON object.
type contentSummary struct {
	DirectoryCount int64                       `json:"directoryCount"`
	FileCount      int64                       `json:"fileCount"`
	Length         int64                       `json:"length"`
	Quota          int64                       `json:"quota"`
	SpaceConsumed  int64                       `json:"spaceConsumed"`
	SpaceQuota     int64                       `json:"spaceQuota"`
	TypeQuota      map[string]map[string]int64 `json:"typeQuota"`
	ECPolicy       string                      `json:"ecPolicy"`
}

// quotaUsage is WebHDFS's QuotaUsage JSON object.
type quotaUsage struct {
	FileAndDirectoryCount int64                       `json:"fileAndDirectoryCount"`
	Quota                 int64                       `json:"quota"`
	SpaceConsumed         int64                       `json:"spaceConsumed"`
	SpaceQuota            int64                       `json:"spaceQuota"`
	TypeQuota             map[string]map[string]int64 `json:"typeQuota"`
}

func (fs *fileSystem) summary(u *caller, p string) (contentSummary, *remoteError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.traverse(u, p); err != nil {
		return contentSummary{}, err
	}
	n, err := fs.nodeLocked(p)
	if err != nil {
		return contentSummary{}, err
	}
	if n.dir() {
		if err := fs.check(u, p, n, permRead|permExec); err != nil {
			return contentSummary{}, err
		}
	}
	us := fs.usageLocked(p)
	return contentSummary{
		DirectoryCount: us.dirs, FileCount: us.files, Length: us.length, Quota: n.nsQuota,
		SpaceConsumed: us.consumed, SpaceQuota: n.ssQuota, TypeQuota: typeQuotaJSON(n, us),
		ECPolicy: fs.effectiveECLocked(p),
	}, nil
}

func (fs *fileSystem) quotaUsage(u *caller, p string) (quotaUsage, *remoteError) {
	s, err := fs.summary(u, p)
	if err != nil {
		return quotaUsage{}, err
	}
	return quotaUsage{
		FileAndDirectoryCount: s.DirectoryCount + s.FileCount, Quota: s.Quota,
		SpaceConsumed: s.SpaceConsumed, SpaceQuota: s.SpaceQuota, TypeQuota: s.TypeQuota,
	}, nil
}

// fsStatus is GETSTATUS's FsStatus.
func (fs *fileSystem) fsStatus() map[string]int64 {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	used := fs.usageLocked("/").consumed
	return map[string]int64{"capacity": clusterCapacity, "used": used, "remaining": clusterCapacity - used}
}

// checksum is HDFS's MD5MD5CRC32C file checksum: an MD5 over each block's
// MD5 of its chunks' CRC32Cs, with the chunk and block sizes.
func checksum(n *inode) map[string]any {
	table := crc32.MakeTable(crc32.Castagnoli)
	blockSize := max(n.blockSize, 1)
	fileMD5 := md5.New()
	blocks := 0
	for off := int64(0); off < int64(len(n.data)); off += blockSize {
		block := n.data[off:min(off+blockSize, int64(len(n.data)))]
		blockMD5 := md5.New()
		for c := 0; c < len(block); c += bytesPerChecksum {
			_ = binary.Write(blockMD5, binary.BigEndian, crc32.Checksum(block[c:min(c+bytesPerChecksum, len(block))], table))
		}
		fileMD5.Write(blockMD5.Sum(nil))
		blocks++
	}
	crcPerBlock := int64(0)
	if blocks > 1 {
		crcPerBlock = blockSize / bytesPerChecksum
	}
	var out []byte
	out = binary.BigEndian.AppendUint32(out, bytesPerChecksum)
	out = binary.BigEndian.AppendUint64(out, uint64(crcPerBlock))
	out = append(out, fileMD5.Sum(nil)...)
	return map[string]any{
		"algorithm": fmt.Sprintf("MD5-of-%dMD5-of-%dCRC32C", crcPerBlock, bytesPerChecksum),
		"bytes":     hex.EncodeToString(out),
		"length":    len(out),
	}
}

// blockLocations is GETFILEBLOCKLOCATIONS's answer for the bytes
// [offset, offset+length) of a file stored on the one datanode at host.
func blockLocations(n *inode, offset, length int64, host, storageType string) []map[string]any {
	size := int64(len(n.data))
	if length < 0 {
		length = size
	}
	end := min(size, offset+length)
	blockSize := max(n.blockSize, 1)
	out := []map[string]any{}
	for start := offset / blockSize * blockSize; start < end; start += blockSize {
		name := host + ":9866"
		out = append(out, map[string]any{
			"offset": start, "length": min(blockSize, size-start), "corrupt": false,
			"hosts": []string{host}, "names": []string{name}, "cachedHosts": []string{},
			"topologyPaths": []string{"/default-rack/" + name}, "storageTypes": []string{storageType},
		})
	}
	return out
}
