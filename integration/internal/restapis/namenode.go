package restapis

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// nameNode answers the metadata operations and redirects data operations.
type nameNode struct {
	fs          *fileSystem
	secure      bool
	dataNodeURL string
	rpcAddress  string
	proxyUsers  map[string][]string
	tokens      *secretManager
	dnRequests  atomic.Int64 // requests the datanode served
}

// identity is who a namenode request runs as.
type identity struct {
	*caller
	real string // the authenticated user, when doas names another
	via  string // spnego, cookie, token, simple
}

// kerberos reports whether the request was authenticated by Kerberos
// (directly, or through the cookie a Kerberos login set), which delegation
// token operations require.
func (id *identity) kerberos() bool { return id.via == "spnego" || id.via == "cookie" }

// javaError names an error as Java's Throwable.toString would.
func javaError(err error) string {
	var it *invalidToken
	var ac *accessControl
	switch {
	case errors.As(err, &it):
		return "org.apache.hadoop.security.token.SecretManager$InvalidToken: " + it.msg
	case errors.As(err, &ac):
		return "org.apache.hadoop.security.AccessControlException: " + ac.msg
	case errors.Is(err, errNoToken):
		return "org.apache.hadoop.HadoopIllegalArgumentException: " + err.Error()
	}
	return "java.io.IOException: " + err.Error()
}

// user is JspHelper.getUGI: the delegation token's owner, or the user the
// authentication filter established, then doas.
func (nn *nameNode) user(r *http.Request, req *request) (*identity, *remoteError) {
	ugiError := func(detail string) *remoteError {
		return raise(errSecurity, "Failed to obtain user group information: %s", detail)
	}
	id := &identity{}
	name := ""
	switch hu, ok := HadoopUserFromContext(r.Context()); {
	case nn.secure && req.query.Has("delegation"):
		if req.str("delegation") == "" {
			return nil, ugiError("java.io.IOException: Security enabled but user not authenticated by filter")
		}
		tok, err := nn.tokens.verify(req.str("delegation"))
		if err != nil {
			return nil, ugiError(javaError(err))
		}
		name, id.via = tok.owner, "token"
		if tok.realUser != "" {
			id.real = tok.realUser
		}
	case ok && hu.Name != "":
		name, id.via = hu.Name, hu.Via
	case nn.secure:
		return nil, ugiError("java.io.IOException: Security enabled but user not authenticated by filter")
	default:
		name, id.via = req.str("user.name"), "simple"
		if name == "" {
			name = "dr.who"
		}
	}
	if doas := req.str("doas"); doas != "" && doas != name {
		if id.via == "token" {
			return nil, ugiError("java.io.IOException: Usernames not matched: name=" + doas + " != expected=" + name)
		}
		allowed := nn.proxyUsers[name]
		if !slices.Contains(allowed, "*") && !slices.Contains(allowed, doas) {
			return nil, ugiError("org.apache.hadoop.security.authorize.AuthorizationException: User: " + name + " is not allowed to impersonate " + doas)
		}
		id.real, name = name, doas
	}
	id.caller = nn.fs.callerFor(name, req.addr)
	return id, nil
}

func (nn *nameNode) serve(w http.ResponseWriter, r *http.Request, req *request) *remoteError {
	if err := checkOp(r.Method, req); err != nil {
		return err
	}
	id, err := nn.user(r, req)
	if err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet:
		return nn.get(w, r, req, id)
	case http.MethodPut:
		return nn.put(w, r, req, id)
	case http.MethodPost:
		return nn.post(w, r, req, id)
	}
	return nn.delete(w, req, id)
}

func (nn *nameNode) get(w http.ResponseWriter, r *http.Request, req *request, id *identity) *remoteError {
	fs, p := nn.fs, req.path
	answer := func(key string, v any, err *remoteError) *remoteError {
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]any{key: v})
		return nil
	}
	switch req.op {
	case "OPEN", "GETFILECHECKSUM":
		if _, _, err := req.byteRange(); err != nil {
			return err
		}
		fs.mu.Lock()
		_, err := fs.readableFileLocked(id.caller, p)
		fs.mu.Unlock()
		if err != nil {
			if err.class == errNotFound && !strings.HasPrefix(err.msg, "Path is not a file") {
				err = raise(errNotFound, "File %s not found.", p)
			}
			return err
		}
		params := []string{"buffersize"}
		if req.op == "OPEN" {
			params = []string{"buffersize", "length", "offset"}
		}
		return nn.redirect(w, r, req, id, params, map[string]string{"offset": "0"})
	case "GETFILESTATUS":
		if n := nn.linkAt(p); n != nil {
			return raise(errUnresolvedPath, "Unresolved path %s", p)
		}
		st, err := fs.stat(id.caller, p)
		return answer("FileStatus", st, err)
	case "GETFILELINKSTATUS":
		st, err := fs.stat(id.caller, p)
		return answer("FileStatus", st, err)
	case "LISTSTATUS":
		list, _, err := fs.list(id.caller, p, nil)
		return answer("FileStatuses", map[string]any{"FileStatus": list}, err)
	case "LISTSTATUS_BATCH":
		after := req.str("startAfter")
		list, remaining, err := fs.list(id.caller, p, &after)
		return answer("DirectoryListing", map[string]any{
			"partialListing":   map[string]any{"FileStatuses": map[string]any{"FileStatus": list}},
			"remainingEntries": remaining,
		}, err)
	case "GETCONTENTSUMMARY":
		sum, err := fs.summary(id.caller, p)
		return answer("ContentSummary", sum, err)
	case "GETQUOTAUSAGE":
		qu, err := fs.quotaUsage(id.caller, p)
		return answer("QuotaUsage", qu, err)
	case "GETHOMEDIRECTORY":
		return answer("Path", homeDirectory(id.name), nil)
	case "GETTRASHROOT":
		return answer("Path", trashRoot(id.name), nil)
	case "GETDELEGATIONTOKEN":
		return nn.getDelegationToken(w, r, req, id)
	case "GETXATTRS":
		if err := req.required("encoding"); err != nil {
			return err
		}
		enc := strings.ToLower(req.str("encoding"))
		if !slices.Contains([]string{"text", "hex", "base64"}, enc) {
			return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"encoding\": No enum constant org.apache.hadoop.fs.XAttrCodec.%s", strings.ToUpper(enc))
		}
		list, err := fs.getXAttrs(id.caller, p, req.query["xattr.name"], enc)
		return answer("XAttrs", list, err)
	case "LISTXATTRS":
		names, err := fs.listXAttrs(id.caller, p)
		return answer("XAttrNames", names, err)
	case "CHECKACCESS":
		if err := req.required("fsaction"); err != nil {
			return err
		}
		want, ok := parseFsAction(req.str("fsaction"))
		if !ok {
			return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"fsaction\": Invalid value: \"%s\" does not belong to the domain ^[r-][w-][x-]$", req.str("fsaction"))
		}
		if err := fs.checkAccess(id.caller, p, want); err != nil {
			return err
		}
		emptyOK(w)
	case "GETALLSTORAGEPOLICY":
		return answer("BlockStoragePolicies", map[string]any{"BlockStoragePolicy": storagePolicies}, nil)
	case "GETSTORAGEPOLICY":
		sp, err := fs.storagePolicy(id.caller, p)
		return answer("BlockStoragePolicy", sp, err)
	case "GETSNAPSHOTDIFF":
		return nn.snapshotDiff(w, req, id, false)
	case "GETSNAPSHOTDIFFLISTING":
		return nn.snapshotDiff(w, req, id, true)
	case "GETSNAPSHOTTABLEDIRECTORYLIST":
		return answer("SnapshottableDirectoryList", fs.snapshottableDirs(id.caller), nil)
	case "GETSNAPSHOTLIST":
		list, err := fs.snapshotList(id.caller, p)
		return answer("SnapshotList", list, err)
	case "GETFILEBLOCKLOCATIONS":
		return nn.blockLocations(w, r, req, id)
	case "GETECPOLICY":
		m, err := fs.ecPolicyOf(id.caller, p)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", m)
	case "GETECPOLICIES":
		return answer("ErasureCodingPolicies", map[string]any{"ErasureCodingPolicyInfo": fs.ecPolicyInfos()}, nil)
	case "GETSERVERDEFAULTS":
		return answer("FsServerDefaults", map[string]any{
			"blockSize": defaultBlockSize, "bytesPerChecksum": bytesPerChecksum, "writePacketSize": 65536,
			"replication": defaultReplication, "fileBufferSize": 4096, "encryptDataTransfer": false,
			"trashInterval": 0, "checksumType": 2, "keyProviderUri": "", "defaultStoragePolicyId": defaultStoragePolicy,
		}, nil)
	case "GETSTATUS":
		return answer("FsStatus", fs.fsStatus(), nil)
	case "GETLINKTARGET":
		target, err := fs.linkTarget(id.caller, p)
		return answer("Path", target, err)
	case "GETACLSTATUS":
		st, err := fs.aclStatus(id.caller, p)
		return answer("AclStatus", st, err)
	}
	return nil
}

// errUnresolvedPath is what HDFS raises when a path ends in a symbolic
// link that an operation would have to follow.
var errUnresolvedPath = exceptionClass{"UnresolvedPathException", "org.apache.hadoop.hdfs.protocol.UnresolvedPathException", http.StatusForbidden}

// linkAt is the symbolic link at p, if there is one.
func (nn *nameNode) linkAt(p string) *inode {
	nn.fs.mu.Lock()
	defer nn.fs.mu.Unlock()
	if n := nn.fs.nodes[p]; n != nil && n.symlink() {
		return n
	}
	return nil
}

func (nn *nameNode) getDelegationToken(w http.ResponseWriter, r *http.Request, req *request, id *identity) *remoteError {
	if req.query.Has("delegation") {
		return raise(errIllegalArgument, "delegation parameter is not null.")
	}
	if !nn.secure {
		// No secret manager runs without security: no token.
		writeJSON(w, http.StatusOK, "application/json", map[string]any{"Token": nil})
		return nil
	}
	if !id.kerberos() {
		return raise(errIO, "Delegation Token can be issued only with kerberos or web authentication")
	}
	renewer := req.str("renewer")
	if renewer == "" {
		renewer = id.name
	}
	kind, service := req.str("kind"), req.str("service")
	if kind == "" {
		kind = "WEBHDFS delegation"
		if r.TLS != nil {
			kind = "SWEBHDFS delegation"
		}
	}
	if service == "" {
		service = r.Host
	}
	tok := nn.tokens.create(id.name, renewer, id.real, kind, service)
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"Token": map[string]string{"urlString": tok}})
	return nil
}

// redirect answers a data operation with the datanode's URL: 307, or 200
// with the URL in JSON for noredirect=true. The query is Hadoop's: the op,
// the delegation token (the caller's, or a new one for the authenticated
// user; user.name and doas without security), namenoderpcaddress, then
// the operation's own parameters sorted by name, defaults included.
func (nn *nameNode) redirect(w http.ResponseWriter, r *http.Request, req *request, id *identity, params []string, defaults map[string]string) *remoteError {
	noRedirect, err := req.boolParam("noredirect", false)
	if err != nil {
		return err
	}
	var q strings.Builder
	q.WriteString("op=" + req.op)
	switch {
	case !nn.secure:
		for _, name := range []string{"doas", "user.name"} {
			if v := req.str(name); v != "" {
				q.WriteString("&" + url.QueryEscape(name) + "=" + url.QueryEscape(v))
			}
		}
	case req.str("delegation") != "":
		q.WriteString("&delegation=" + url.QueryEscape(req.str("delegation")))
	default:
		kind := "WEBHDFS delegation"
		if r.TLS != nil {
			kind = "SWEBHDFS delegation"
		}
		tok := nn.tokens.create(id.name, id.name, id.real, kind, r.Host)
		q.WriteString("&delegation=" + tok)
	}
	q.WriteString("&namenoderpcaddress=" + nn.rpcAddress)
	slices.Sort(params)
	for _, name := range params {
		v, present := req.query.Get(name), req.query.Has(name)
		if !present {
			var ok bool
			if v, ok = defaults[name]; !ok {
				continue
			}
		}
		q.WriteString("&" + url.QueryEscape(name) + "=" + url.QueryEscape(v))
	}
	loc := nn.dataNodeURL + (&url.URL{Path: WebHDFSPrefix + req.path}).EscapedPath() + "?" + q.String()
	if noRedirect {
		writeJSON(w, http.StatusOK, "application/json", map[string]string{"Location": loc})
		return nil
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusTemporaryRedirect)
	return nil
}

// createParams checks CREATE's parameters as Jersey parses them on the
// namenode, and returns the options the datanode applies.
func createParams(req *request) (createOptions, *remoteError) {
	var o createOptions
	var err *remoteError
	perm, err := req.permission("permission", 0o644)
	if err != nil {
		return o, err
	}
	if _, err := req.permission("unmaskedpermission", 0); err != nil {
		return o, err
	}
	replication, err := req.intParam("replication", defaultReplication, 1)
	if err != nil || replication > 32767 {
		return o, raise(errIllegalArgument, "Invalid value for webhdfs parameter \"replication\": %s", req.str("replication"))
	}
	blockSize, err := req.intParam("blocksize", defaultBlockSize, 1)
	if err != nil {
		return o, err
	}
	if _, err := req.intParam("buffersize", 4096, 1); err != nil {
		return o, err
	}
	overwrite, err := req.boolParam("overwrite", false)
	if err != nil {
		return o, err
	}
	createParent, err := req.boolParam("createparent", true)
	if err != nil {
		return o, err
	}
	for flag := range strings.SplitSeq(req.str("createflag"), ",") {
		switch strings.ToLower(strings.TrimSpace(flag)) {
		case "overwrite":
			overwrite = true
		case "", "create", "append", "sync_block", "lazy_persist", "new_block", "no_local_write", "ignore_client_locality", "shouldreplicate":
		default:
			return o, raise(errIllegalArgument, "Invalid value for webhdfs parameter \"createflag\": %s", req.str("createflag"))
		}
	}
	return createOptions{perm: perm, overwrite: overwrite, createParent: createParent, replication: int16(replication), blockSize: blockSize}, nil
}

func (nn *nameNode) put(w http.ResponseWriter, r *http.Request, req *request, id *identity) *remoteError {
	fs, p, u := nn.fs, req.path, id.caller
	answer := func(key string, v any, err *remoteError) *remoteError {
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]any{key: v})
		return nil
	}
	done := func(err *remoteError) *remoteError {
		if err == nil {
			emptyOK(w)
		}
		return err
	}
	switch req.op {
	case "CREATE":
		if _, err := createParams(req); err != nil {
			return err
		}
		return nn.redirect(w, r, req, id,
			[]string{"blocksize", "buffersize", "createflag", "createparent", "overwrite", "permission", "replication", "unmaskedpermission"},
			map[string]string{"createflag": "", "createparent": "true", "overwrite": "false"})
	case "MKDIRS":
		perm, err := req.permission("permission", 0o755)
		if err != nil {
			return err
		}
		return answer("boolean", true, fs.mkdirs(u, p, perm))
	case "CREATESYMLINK":
		if err := req.required("destination"); err != nil {
			return err
		}
		dst, err := req.absolute("destination")
		if err != nil {
			return err
		}
		createParent, err := req.boolParam("createparent", true)
		if err != nil {
			return err
		}
		return done(fs.createSymlink(u, dst, p, createParent))
	case "RENAME":
		if err := req.required("destination"); err != nil {
			return err
		}
		dst, err := req.absolute("destination")
		if err != nil {
			return err
		}
		options := strings.ToUpper(req.str("renameoptions"))
		if options != "" && options != "NONE" && options != "OVERWRITE" {
			return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"renameoptions\": %s", req.str("renameoptions"))
		}
		renamed, err := fs.rename(u, p, dst, options)
		if options != "" {
			return done(err)
		}
		return answer("boolean", renamed, err)
	case "SETREPLICATION":
		replication, err := req.intParam("replication", defaultReplication, 1)
		if err != nil {
			return err
		}
		set, err := fs.setReplication(u, p, int16(replication))
		return answer("boolean", set, err)
	case "SETOWNER":
		if req.str("owner") == "" && req.str("group") == "" {
			return raise(errIllegalArgument, "Both owner and group are empty.")
		}
		return done(fs.setOwner(u, p, req.str("owner"), req.str("group")))
	case "SETPERMISSION":
		perm, err := req.permission("permission", 0o755)
		if err != nil {
			return err
		}
		return done(fs.setPermission(u, p, perm))
	case "SETTIMES":
		mtime, err := req.intParam("modificationtime", -1, -1)
		if err != nil {
			return err
		}
		atime, err := req.intParam("accesstime", -1, -1)
		if err != nil {
			return err
		}
		return done(fs.setTimes(u, p, mtime, atime))
	case "RENEWDELEGATIONTOKEN":
		if err := req.required("token"); err != nil {
			return err
		}
		if !id.kerberos() {
			return raise(errIO, "Delegation Token can be renewed only with kerberos or web authentication")
		}
		expiry, err := nn.tokens.renew(req.str("token"), id.name)
		if err != nil {
			return fromTokenError(err)
		}
		return answer("long", expiry, nil)
	case "CANCELDELEGATIONTOKEN":
		if err := req.required("token"); err != nil {
			return err
		}
		if err := nn.tokens.cancel(req.str("token"), id.name); err != nil {
			return fromTokenError(err)
		}
		emptyOK(w)
	case "ALLOWSNAPSHOT", "DISALLOWSNAPSHOT":
		return done(fs.allowSnapshot(u, p, req.op == "ALLOWSNAPSHOT"))
	case "CREATESNAPSHOT":
		created, err := fs.createSnapshot(u, p, req.str("snapshotname"))
		return answer("Path", created, err)
	case "RENAMESNAPSHOT":
		if err := req.required("oldsnapshotname", "snapshotname"); err != nil {
			return err
		}
		return done(fs.renameSnapshot(u, p, req.str("oldsnapshotname"), req.str("snapshotname")))
	case "SETXATTR":
		if err := req.required("xattr.name", "flag"); err != nil {
			return err
		}
		flag := strings.ToUpper(req.str("flag"))
		if flag != "CREATE" && flag != "REPLACE" {
			return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"flag\": %s", req.str("flag"))
		}
		return done(fs.setXAttr(u, p, req.str("xattr.name"), req.str("xattr.value"), flag))
	case "REMOVEXATTR":
		if err := req.required("xattr.name"); err != nil {
			return err
		}
		return done(fs.removeXAttr(u, p, req.str("xattr.name")))
	case "SETSTORAGEPOLICY":
		if req.str("storagepolicy") == "" {
			return raise(errIllegalArgument, "Storage policy name is empty.")
		}
		return done(fs.setStoragePolicy(u, p, req.str("storagepolicy")))
	case "SATISFYSTORAGEPOLICY":
		return done(fs.satisfyStoragePolicy(u, p))
	case "ENABLEECPOLICY", "DISABLEECPOLICY":
		if err := req.required("ecpolicy"); err != nil {
			return err
		}
		return done(fs.setECPolicyEnabled(u, req.str("ecpolicy"), req.op == "ENABLEECPOLICY"))
	case "SETECPOLICY":
		if err := req.required("ecpolicy"); err != nil {
			return err
		}
		return done(fs.setECPolicy(u, p, req.str("ecpolicy")))
	case "MODIFYACLENTRIES", "REMOVEACLENTRIES", "SETACL":
		if err := req.required("aclspec"); err != nil {
			return err
		}
		spec, err := parseACLSpec(req.str("aclspec"), req.op != "REMOVEACLENTRIES")
		if err != nil {
			return err
		}
		return done(fs.modifyACL(u, p, req.op, spec))
	case "REMOVEDEFAULTACL", "REMOVEACL":
		return done(fs.modifyACL(u, p, req.op, nil))
	case "SETQUOTA":
		ns, err := quotaParam(req, "namespacequota")
		if err != nil {
			return err
		}
		ss, err := quotaParam(req, "storagespacequota")
		if err != nil {
			return err
		}
		return done(nn.setQuota(u, p, ns, ss))
	case "SETQUOTABYSTORAGETYPE":
		if err := req.required("storagetype", "storagespacequota"); err != nil {
			return err
		}
		st := strings.ToUpper(req.str("storagetype"))
		if !slices.Contains([]string{"RAM_DISK", "SSD", "DISK", "ARCHIVE", "NVDIMM"}, st) {
			return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"storagetype\": No enum constant org.apache.hadoop.fs.StorageType.%s", st)
		}
		ss, err := quotaParam(req, "storagespacequota")
		if err != nil {
			return err
		}
		return done(fs.setQuota(u, p, 0, ss, st))
	}
	return nil
}

// quotaDontSet is HdfsConstants.QUOTA_DONT_SET, the default of the quota
// parameters: leave that quota as it is.
const quotaDontSet = int64(^uint64(0) >> 1)

func quotaParam(req *request, name string) (int64, *remoteError) {
	v := req.str(name)
	if v == "" {
		return quotaDontSet, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < -1 || n == 0 {
		return 0, raise(errIllegalArgument, "Invalid value for webhdfs parameter \"%s\": %s", name, v)
	}
	return n, nil
}

func (nn *nameNode) setQuota(u *caller, p string, ns, ss int64) *remoteError {
	nn.fs.mu.Lock()
	n := nn.fs.nodes[p]
	if n != nil {
		if ns == quotaDontSet {
			ns = n.nsQuota
		}
		if ss == quotaDontSet {
			ss = n.ssQuota
		}
	}
	nn.fs.mu.Unlock()
	return nn.fs.setQuota(u, p, ns, ss, "")
}

func (nn *nameNode) post(w http.ResponseWriter, r *http.Request, req *request, id *identity) *remoteError {
	fs, p, u := nn.fs, req.path, id.caller
	switch req.op {
	case "APPEND":
		if _, err := req.intParam("buffersize", 4096, 1); err != nil {
			return err
		}
		fs.mu.Lock()
		n, err := fs.fileLocked(p)
		if err == nil {
			err = fs.check(u, p, n, permWrite)
		} else if err.class == errNotFound {
			err = raise(errNotFound, "File %s not found.", p)
		}
		fs.mu.Unlock()
		if err != nil {
			return err
		}
		return nn.redirect(w, r, req, id, []string{"buffersize"}, nil)
	case "CONCAT":
		if err := req.required("sources"); err != nil {
			return err
		}
		var sources []string
		for s := range strings.SplitSeq(req.str("sources"), ",") {
			sources = append(sources, cleanPath(s))
		}
		if err := fs.concat(u, p, sources); err != nil {
			return err
		}
	case "TRUNCATE":
		if err := req.required("newlength"); err != nil {
			return err
		}
		length, err := req.intParam("newlength", 0, 0)
		if err != nil {
			return err
		}
		done, err := fs.truncate(u, p, length)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]bool{"boolean": done})
		return nil
	case "UNSETSTORAGEPOLICY":
		if err := fs.unsetStoragePolicy(u, p); err != nil {
			return err
		}
	case "UNSETECPOLICY":
		if err := fs.setECPolicy(u, p, ""); err != nil {
			return err
		}
	}
	emptyOK(w)
	return nil
}

func (nn *nameNode) delete(w http.ResponseWriter, req *request, id *identity) *remoteError {
	switch req.op {
	case "DELETESNAPSHOT":
		if err := req.required("snapshotname"); err != nil {
			return err
		}
		if err := nn.fs.deleteSnapshot(id.caller, req.path, req.str("snapshotname")); err != nil {
			return err
		}
		emptyOK(w)
		return nil
	}
	recursive, err := req.boolParam("recursive", false)
	if err != nil {
		return err
	}
	deleted, err := nn.fs.remove(id.caller, req.path, recursive)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]bool{"boolean": deleted})
	return nil
}

// snapshotDiff answers GETSNAPSHOTDIFF or, listing, GETSNAPSHOTDIFFLISTING
// (in one batch).
func (nn *nameNode) snapshotDiff(w http.ResponseWriter, req *request, id *identity, listing bool) *remoteError {
	from, to := req.str("oldsnapshotname"), req.str("snapshotname")
	entries, err := nn.fs.diff(id.caller, req.path, from, to)
	if err != nil {
		return err
	}
	if !listing {
		list := []map[string]string{}
		for _, e := range entries {
			list = append(list, map[string]string{"type": e.typ, "sourcePath": e.sourcePath})
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]any{"SnapshotDiffReport": map[string]any{
			"snapshotRoot": req.path, "fromSnapshot": from, "toSnapshot": to, "diffList": list,
		}})
		return nil
	}
	lists := map[string][]map[string]any{"MODIFY": {}, "CREATE": {}, "DELETE": {}}
	for _, e := range entries {
		lists[e.typ] = append(lists[e.typ], map[string]any{
			"dirId": e.dirID, "fileId": e.fileID, "isReference": false, "sourcePath": e.sourcePath,
		})
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"SnapshotDiffReportListing": map[string]any{
		"isFromEarlier": true, "lastIndex": -1, "lastPath": "",
		"modifyList": lists["MODIFY"], "createList": lists["CREATE"], "deleteList": lists["DELETE"],
	}})
	return nil
}

func (nn *nameNode) blockLocations(w http.ResponseWriter, r *http.Request, req *request, id *identity) *remoteError {
	offset, length, err := req.byteRange()
	if err != nil {
		return err
	}
	fs := nn.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.readableFileLocked(id.caller, req.path)
	if err != nil {
		return err
	}
	dn, _ := url.Parse(nn.dataNodeURL)
	host := dn.Hostname()
	storage := fs.effectivePolicyLocked(req.path).StorageTypes[0]
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"BlockLocations": map[string]any{
		"BlockLocation": blockLocations(n, offset, length, host, storage),
	}})
	return nil
}
