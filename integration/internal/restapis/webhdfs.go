package restapis

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/acceptor"
)

// WebHDFSPrefix is where every WebHDFS path starts.
const WebHDFSPrefix = "/webhdfs/v1"

// WebHDFSConfig configures [NewWebHDFS].
type WebHDFSConfig struct {
	// Keytab holds the namenode's HTTP/<host> keys: with it the cluster is
	// secure (Kerberos SPNEGO on the namenode, delegation tokens to the
	// datanode); without it security is off (user.name, as Hadoop's
	// "simple" authentication).
	Keytab *keytab.Keytab
	// DataNodeURL is the datanode listener's base URL as clients reach it
	// ("https://127.0.0.1:9865"): the namenode redirects OPEN, CREATE,
	// APPEND and GETFILECHECKSUM there.
	DataNodeURL string
	// RPCAddress is the namenode's RPC address, which it names in the
	// redirect (namenoderpcaddress) and datanodes use to reach it; default
	// "localhost:8020".
	RPCAddress string
	// ProxyUsers lists who may impersonate whom with doas
	// (hadoop.proxyuser.<user>.users); "*" for anyone.
	ProxyUsers map[string][]string
	// Groups gives users their groups; "hdfs" is always the superuser.
	Groups map[string][]string
	// TokenRenewInterval and TokenMaxLifetime are the delegation token
	// lifetimes (defaults 24 hours and 7 days).
	TokenRenewInterval, TokenMaxLifetime time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// ReplayStore is the namenode's replay cache (nil: one in memory of
	// its own).
	ReplayStore acceptor.ReplayStore
}

// WebHDFS is an in-memory HDFS behind a namenode and a datanode, which
// behave as Hadoop 3's: see NamenodeWebHdfsMethods, the datanode's
// WebHdfsHandler and DataNodeUGIProvider, and hadoop-auth's
// AuthenticationFilter.
//
// The namenode (NameNode) authenticates with SPNEGO and the hadoop.auth
// cookie, or a delegation token in the delegation parameter; it answers
// metadata operations itself and redirects OPEN, CREATE, APPEND and
// GETFILECHECKSUM with a 307 to the datanode, adding a fresh delegation
// token for the caller (on a secure cluster) and namenoderpcaddress. The
// datanode (DataNode) never does SPNEGO: it authenticates a request by the
// delegation token in its URL alone, and checks that token with the
// namenode named by namenoderpcaddress, as a real datanode's DFSClient
// does. Serve the two on different listeners (hosts, ports), so that the
// redirect crosses hosts as on a real cluster.
//
// Differences from a real cluster: one datanode holds every block; a
// datanode refuses a CREATE before reading its body (Hadoop's sends 100
// Continue first and fails while the data arrives); snapshot diffs report
// a rename as a deletion and a creation.
type WebHDFS struct {
	NameNode, DataNode http.Handler

	auth *hadoopAuth
	nn   *nameNode
}

// Stats reports how the namenode authenticated requests, and how many
// requests the datanode served.
func (w *WebHDFS) Stats() WebHDFSStats {
	return WebHDFSStats{Auth: w.auth.counts.stats(), DataNodeRequests: w.nn.dnRequests.Load()}
}

// WebHDFSStats are the counters of [WebHDFS.Stats].
type WebHDFSStats struct {
	Auth             AuthStats
	DataNodeRequests int64
}

// NewWebHDFS returns a namenode and datanode sharing an HDFS that holds
// "/", "/tmp" (1777) and "/user" (755), owned by hdfs:supergroup. Mount
// both at WebHDFSPrefix+"/" (or at the root).
func NewWebHDFS(cfg WebHDFSConfig) (*WebHDFS, error) {
	if cfg.DataNodeURL == "" {
		return nil, errors.New("restapis: WebHDFSConfig.DataNodeURL is required")
	}
	if cfg.RPCAddress == "" {
		cfg.RPCAddress = "localhost:8020"
	}
	fs := newFileSystem(cfg.Groups, cfg.Now)
	nn := &nameNode{
		fs: fs, secure: cfg.Keytab != nil, dataNodeURL: strings.TrimSuffix(cfg.DataNodeURL, "/"),
		rpcAddress: cfg.RPCAddress, proxyUsers: cfg.ProxyUsers,
		tokens: newSecretManager("HDFS_DELEGATION_TOKEN", cfg.TokenRenewInterval, cfg.TokenMaxLifetime, cfg.Now),
	}
	// WebHDFS's AuthFilter: a request with a delegation token is left to
	// the namenode, which authenticates it by the token.
	bypass := func(r *http.Request) bool { return r.URL.Query().Has("delegation") }
	auth, err := newHadoopAuth(cfg.Keytab, cfg.Now, bypass, cfg.ReplayStore)
	if err != nil {
		return nil, err
	}
	dn := &dataNode{nn: nn}
	return &WebHDFS{NameNode: auth.wrap(handler(nn.serve)), DataNode: handler(dn.serve), auth: auth, nn: nn}, nil
}

// handler serves a WebHDFS request with a function of the parsed request
// that reports failures as RemoteExceptions.
type handler func(w http.ResponseWriter, r *http.Request, req *request) *remoteError

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := parseRequest(r)
	if err == nil {
		err = h(w, r, req)
	}
	if err != nil {
		writeRemoteException(w, err)
	}
}

// Hadoop's exceptions, with the status its ExceptionHandler gives them.
var (
	errIllegalArgument       = exceptionClass{"IllegalArgumentException", "java.lang.IllegalArgumentException", http.StatusBadRequest}
	errHadoopIllegalArgument = exceptionClass{"HadoopIllegalArgumentException", "org.apache.hadoop.HadoopIllegalArgumentException", http.StatusBadRequest}
	errUnsupported           = exceptionClass{"UnsupportedOperationException", "java.lang.UnsupportedOperationException", http.StatusBadRequest}
	errSecurity              = exceptionClass{"SecurityException", "java.lang.SecurityException", http.StatusForbidden}
	errAccessControl         = exceptionClass{"AccessControlException", "org.apache.hadoop.security.AccessControlException", http.StatusForbidden}
	errInvalidToken          = exceptionClass{"InvalidToken", "org.apache.hadoop.security.token.SecretManager$InvalidToken", http.StatusForbidden}
	errNotFound              = exceptionClass{"FileNotFoundException", "java.io.FileNotFoundException", http.StatusNotFound}
	errExists                = exceptionClass{"FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", http.StatusForbidden}
	errParentNotDir          = exceptionClass{"ParentNotDirectoryException", "org.apache.hadoop.fs.ParentNotDirectoryException", http.StatusForbidden}
	errPathIsNotDir          = exceptionClass{"PathIsNotDirectoryException", "org.apache.hadoop.fs.PathIsNotDirectoryException", http.StatusForbidden}
	errNotEmpty              = exceptionClass{"PathIsNotEmptyDirectoryException", "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", http.StatusForbidden}
	errSnapshot              = exceptionClass{"SnapshotException", "org.apache.hadoop.hdfs.protocol.SnapshotException", http.StatusForbidden}
	errSnapshotAccess        = exceptionClass{"SnapshotAccessControlException", "org.apache.hadoop.hdfs.protocol.SnapshotAccessControlException", http.StatusForbidden}
	errNSQuota               = exceptionClass{"NSQuotaExceededException", "org.apache.hadoop.hdfs.protocol.NSQuotaExceededException", http.StatusForbidden}
	errDSQuota               = exceptionClass{"DSQuotaExceededException", "org.apache.hadoop.hdfs.protocol.DSQuotaExceededException", http.StatusForbidden}
	errAclException          = exceptionClass{"AclException", "org.apache.hadoop.hdfs.protocol.AclException", http.StatusForbidden}
	errConnect               = exceptionClass{"ConnectException", "java.net.ConnectException", http.StatusForbidden}
	errIO                    = exceptionClass{"IOException", "java.io.IOException", http.StatusForbidden}
	errEOF                   = exceptionClass{"EOFException", "java.io.EOFException", http.StatusForbidden}
	// errFileNotDir is HDFS's FileNotFoundException for an operation that
	// needs a directory.
	errFileNotDir = errNotFound
)

type exceptionClass struct {
	name, javaClass string
	status          int
}

// remoteError is a failure to report as a RemoteException.
type remoteError struct {
	class exceptionClass
	msg   string
}

func (e *remoteError) Error() string { return e.class.name + ": " + e.msg }

func raise(class exceptionClass, format string, args ...any) *remoteError {
	return &remoteError{class: class, msg: fmt.Sprintf(format, args...)}
}

// fromTokenError maps a secret manager failure to its exception.
func fromTokenError(err error) *remoteError {
	var it *invalidToken
	var ac *accessControl
	switch {
	case errors.As(err, &it):
		return raise(errInvalidToken, "%s", it.msg)
	case errors.As(err, &ac):
		return raise(errAccessControl, "%s", ac.msg)
	case errors.Is(err, errNoToken):
		return raise(errHadoopIllegalArgument, "%s", err.Error())
	}
	return raise(errIO, "%v", err)
}

func writeRemoteException(w http.ResponseWriter, e *remoteError) {
	writeJSON(w, e.class.status, "application/json", map[string]any{
		"RemoteException": map[string]string{
			"exception":     e.class.name,
			"javaClassName": e.class.javaClass,
			"message":       e.msg,
		},
	})
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// emptyOK answers an empty 200, as Jersey's Response.ok() does.
func emptyOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// request is a parsed WebHDFS request.
type request struct {
	path  string // clean absolute HDFS path
	op    string
	query url.Values
	addr  string // the client's IP
}

func parseRequest(r *http.Request) (*request, *remoteError) {
	rest, ok := strings.CutPrefix(r.URL.Path, WebHDFSPrefix)
	if !ok || rest != "" && rest[0] != '/' {
		return nil, raise(errIllegalArgument, "not a WebHDFS path: %s", r.URL.Path)
	}
	p := "/" + strings.Trim(rest, "/")
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." || strings.Contains(seg, ":") {
			return nil, raise(errIllegalArgument, "Invalid path name %s", p)
		}
	}
	q := r.URL.Query()
	addr, _, _ := strings.Cut(r.RemoteAddr, ":")
	return &request{path: p, op: strings.ToUpper(q.Get("op")), query: q, addr: addr}, nil
}

func (r *request) str(name string) string { return r.query.Get(name) }

func (r *request) boolParam(name string, def bool) (bool, *remoteError) {
	switch v := r.query.Get(name); {
	case v == "":
		return def, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	default:
		return false, raise(errIllegalArgument, "Invalid value for webhdfs parameter \"%s\": Failed to parse \"%s\" as a boolean.", name, v)
	}
}

// intParam returns the parameter, or def when absent; it must be at
// least min.
func (r *request) intParam(name string, def, min int64) (int64, *remoteError) {
	v := r.query.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		return 0, raise(errIllegalArgument, "Invalid value for webhdfs parameter \"%s\": %s", name, v)
	}
	return n, nil
}

// byteRange is the offset and length parameters of OPEN and
// GETFILEBLOCKLOCATIONS (length -1: to the end).
func (r *request) byteRange() (offset, length int64, err *remoteError) {
	if offset, err = r.intParam("offset", 0, 0); err != nil {
		return 0, 0, err
	}
	length, err = r.intParam("length", -1, 0)
	return offset, length, err
}

// permission parses an octal permission ("755", "1777"), or returns def.
func (r *request) permission(name string, def uint16) (uint16, *remoteError) {
	v := r.query.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 8, 16)
	if err != nil || len(v) > 4 || n > 0o1777 {
		return 0, raise(errIllegalArgument, "Invalid value for webhdfs parameter \"%s\": Failed to parse \"%s\" as a radix-8 short integer.", name, v)
	}
	return uint16(n), nil
}

// required is validateOpParams.
func (r *request) required(names ...string) *remoteError {
	for _, name := range names {
		if r.query.Get(name) == "" {
			return raise(errIllegalArgument, "Required param %s for op: %s is null or empty", name, r.op)
		}
	}
	return nil
}

// absolute checks a path parameter.
func (r *request) absolute(name string) (string, *remoteError) {
	v := r.query.Get(name)
	if !strings.HasPrefix(v, "/") {
		return "", raise(errIllegalArgument, "Invalid value for webhdfs parameter \"%s\": Invalid parameter value: %s = %s is not an absolute path", name, name, v)
	}
	return cleanPath(v), nil
}

func cleanPath(p string) string {
	if p == "/" {
		return p
	}
	return "/" + strings.Trim(p, "/")
}

// opValid says whether op is one of the method's WebHDFS operations.
func opValid(method, op string) bool {
	return slices.Contains(webhdfsOps[method], op)
}

var webhdfsOps = map[string][]string{
	http.MethodGet: {"OPEN", "GETFILESTATUS", "LISTSTATUS", "LISTSTATUS_BATCH", "GETCONTENTSUMMARY", "GETQUOTAUSAGE",
		"GETFILECHECKSUM", "GETHOMEDIRECTORY", "GETDELEGATIONTOKEN", "GETTRASHROOT", "GETXATTRS", "LISTXATTRS",
		"CHECKACCESS", "GETALLSTORAGEPOLICY", "GETSTORAGEPOLICY", "GETSNAPSHOTDIFF", "GETSNAPSHOTDIFFLISTING",
		"GETSNAPSHOTTABLEDIRECTORYLIST", "GETSNAPSHOTLIST", "GETFILEBLOCKLOCATIONS", "GETECPOLICY",
		"GETSERVERDEFAULTS", "GETLINKTARGET", "GETFILELINKSTATUS", "GETSTATUS", "GETECPOLICIES", "GETACLSTATUS"},
	http.MethodPut: {"CREATE", "MKDIRS", "CREATESYMLINK", "RENAME", "SETREPLICATION", "SETOWNER", "SETPERMISSION",
		"SETTIMES", "RENEWDELEGATIONTOKEN", "CANCELDELEGATIONTOKEN", "ALLOWSNAPSHOT", "DISALLOWSNAPSHOT",
		"CREATESNAPSHOT", "RENAMESNAPSHOT", "SETXATTR", "REMOVEXATTR", "SETSTORAGEPOLICY", "SATISFYSTORAGEPOLICY",
		"ENABLEECPOLICY", "DISABLEECPOLICY", "SETECPOLICY", "MODIFYACLENTRIES", "REMOVEACLENTRIES",
		"REMOVEDEFAULTACL", "REMOVEACL", "SETACL", "SETQUOTA", "SETQUOTABYSTORAGETYPE"},
	http.MethodPost:   {"APPEND", "CONCAT", "TRUNCATE", "UNSETSTORAGEPOLICY", "UNSETECPOLICY"},
	http.MethodDelete: {"DELETE", "DELETESNAPSHOT"},
}

// opParamClass is the Jersey parameter class of each method's op, which
// the message about an unknown op names.
var opParamClass = map[string]string{
	http.MethodGet: "GetOpParam", http.MethodPut: "PutOpParam", http.MethodPost: "PostOpParam", http.MethodDelete: "DeleteOpParam",
}

// checkOp refuses a missing op, as Jersey's default NULL op is refused,
// and an op the method does not have, as its enum parameter refuses it.
func checkOp(method string, req *request) *remoteError {
	class, known := opParamClass[method]
	switch {
	case !known:
		return raise(errUnsupported, "%s is not supported", method)
	case req.op == "":
		return raise(errUnsupported, "op=NULL is not supported")
	case !opValid(method, req.op):
		return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"op\": No enum constant org.apache.hadoop.hdfs.web.resources.%s.Op.%s", class, req.op)
	}
	return nil
}
