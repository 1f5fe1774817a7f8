package restapis

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/krbhttp/krbhttp/auth/acceptor"
)

// WebHDFSPrefix is where every WebHDFS path starts.
const WebHDFSPrefix = "/webhdfs/v1"

// NewWebHDFS returns the namenode and datanode handlers of an in-memory
// HDFS that holds only the root directory. Mount both at WebHDFSPrefix+"/"
// (or at the root), on different listeners.
//
// dataNodeURL is the datanode listener's base URL as clients reach it
// ("https://127.0.0.1:9865"): the namenode redirects CREATE, APPEND and
// OPEN there, keeping the path and query and adding namenoderpcaddress, as
// Hadoop does; with noredirect=true it answers 200 {"Location": URL}
// instead. The datanode serves only those redirected requests. The
// namenode does not read request bodies.
//
// Supported: GET OPEN, GETFILESTATUS, LISTSTATUS, GETCONTENTSUMMARY; PUT
// CREATE, MKDIRS, RENAME; POST APPEND; DELETE DELETE. Errors are
// RemoteException bodies with Hadoop's status mapping (400 bad parameter,
// 403 exists / not empty / not a directory, 404 not found).
func NewWebHDFS(dataNodeURL string) (namenode, datanode http.Handler) {
	fs := newFileSystem()
	nn := &nameNode{fs: fs, dataNodeURL: strings.TrimSuffix(dataNodeURL, "/")}
	return handler(nn.serve), handler((&dataNode{fs: fs}).serve)
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
	errIllegalArgument = exceptionClass{"IllegalArgumentException", "java.lang.IllegalArgumentException", http.StatusBadRequest}
	errNotFound        = exceptionClass{"FileNotFoundException", "java.io.FileNotFoundException", http.StatusNotFound}
	errExists          = exceptionClass{"FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", http.StatusForbidden}
	errParentNotDir    = exceptionClass{"ParentNotDirectoryException", "org.apache.hadoop.fs.ParentNotDirectoryException", http.StatusForbidden}
	errNotEmpty        = exceptionClass{"PathIsNotEmptyDirectoryException", "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", http.StatusForbidden}
	errIO              = exceptionClass{"IOException", "java.io.IOException", http.StatusForbidden}
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

// request is a parsed WebHDFS request.
type request struct {
	path  string // clean absolute HDFS path
	op    string
	query url.Values
	user  string // owner for what it creates
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
	req := &request{path: p, op: strings.ToUpper(q.Get("op")), query: q, user: shortName(r, q)}
	if req.op == "" {
		return nil, raise(errIllegalArgument, "Invalid value for webhdfs parameter \"op\": no op given")
	}
	return req, nil
}

// shortName is the Hadoop user a request acts as: the authenticated
// principal's first component, else user.name, else Hadoop's static user.
func shortName(r *http.Request, q url.Values) string {
	if id, ok := acceptor.IdentityFromContext(r.Context()); ok && id.Principal != "" {
		name, _, _ := strings.Cut(id.Principal, "@")
		name, _, _ = strings.Cut(name, "/")
		return name
	}
	if u := q.Get("user.name"); u != "" {
		return u
	}
	return "dr.who"
}

func (r *request) boolParam(name string) (bool, *remoteError) {
	switch v := r.query.Get(name); {
	case v == "", strings.EqualFold(v, "false"):
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	default:
		return false, raise(errIllegalArgument, "Invalid value for webhdfs parameter \"%s\": %s", name, v)
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

// permission parses an octal permission ("755", "1777"), or returns def.
func (r *request) permission(def uint32) (uint32, *remoteError) {
	v := r.query.Get("permission")
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 8, 32)
	if err != nil || len(v) > 4 || n > 0o1777 {
		return 0, raise(errIllegalArgument, "Invalid value for webhdfs parameter \"permission\": %s", v)
	}
	return uint32(n), nil
}

// nameNode answers the metadata operations and redirects data operations.
type nameNode struct {
	fs          *fileSystem
	dataNodeURL string
}

func (nn *nameNode) serve(w http.ResponseWriter, r *http.Request, req *request) *remoteError {
	switch r.Method + " " + req.op {
	case "GET GETFILESTATUS":
		st, err := nn.fs.stat(req.path)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]any{"FileStatus": st})
	case "GET LISTSTATUS":
		list, err := nn.fs.list(req.path)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]any{"FileStatuses": map[string]any{"FileStatus": list}})
	case "GET GETCONTENTSUMMARY":
		sum, err := nn.fs.contentSummary(req.path)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]any{"ContentSummary": sum})
	case "PUT MKDIRS":
		perm, err := req.permission(0o755)
		if err != nil {
			return err
		}
		if err := nn.fs.mkdirs(req.path, perm, req.user); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]bool{"boolean": true})
	case "PUT RENAME":
		dst := req.query.Get("destination")
		if !strings.HasPrefix(dst, "/") {
			return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"destination\": %q is not an absolute path", dst)
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]bool{"boolean": nn.fs.rename(req.path, path.Clean(dst))})
	case "DELETE DELETE":
		recursive, err := req.boolParam("recursive")
		if err != nil {
			return err
		}
		ok, err := nn.fs.remove(req.path, recursive)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]bool{"boolean": ok})
	case "PUT CREATE", "POST APPEND", "GET OPEN":
		return nn.redirect(w, r, req)
	default:
		return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"op\": %s is not a valid %s operation", req.op, r.Method)
	}
	return nil
}

// redirect sends a data operation to the datanode, after the checks the
// namenode can make before any data moves.
func (nn *nameNode) redirect(w http.ResponseWriter, r *http.Request, req *request) *remoteError {
	var err *remoteError
	switch req.op {
	case "CREATE":
		var overwrite bool
		if overwrite, err = req.boolParam("overwrite"); err == nil {
			err = nn.fs.checkCreate(req.path, overwrite)
		}
	case "APPEND", "OPEN":
		err = nn.fs.checkFile(req.path)
	}
	if err != nil {
		return err
	}
	noRedirect, err := req.boolParam("noredirect")
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range req.query {
		if k != "noredirect" {
			q[k] = v
		}
	}
	q.Set("namenoderpcaddress", r.Host)
	loc := nn.dataNodeURL + (&url.URL{Path: WebHDFSPrefix + req.path}).EscapedPath() + "?" + q.Encode()
	if noRedirect {
		writeJSON(w, http.StatusOK, "application/json", map[string]string{"Location": loc})
		return nil
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusTemporaryRedirect)
	return nil
}

// dataNode stores and serves file data for redirected requests.
type dataNode struct {
	fs *fileSystem
}

func (dn *dataNode) serve(w http.ResponseWriter, r *http.Request, req *request) *remoteError {
	if req.query.Get("namenoderpcaddress") == "" {
		return raise(errIllegalArgument, "namenoderpcaddress is not specified.")
	}
	switch r.Method + " " + req.op {
	case "PUT CREATE":
		return dn.create(w, r, req)
	case "POST APPEND":
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return raise(errIO, "reading the data: %v", err)
		}
		if err := dn.fs.appendFile(req.path, data); err != nil {
			return err
		}
		w.Header().Set("Content-Length", "0")
	case "GET OPEN":
		return dn.open(w, req)
	default:
		return raise(errIllegalArgument, "Invalid value for webhdfs parameter \"op\": %s is not a valid %s datanode operation", req.op, r.Method)
	}
	return nil
}

func (dn *dataNode) create(w http.ResponseWriter, r *http.Request, req *request) *remoteError {
	overwrite, err := req.boolParam("overwrite")
	if err != nil {
		return err
	}
	perm, err := req.permission(0o644)
	if err != nil {
		return err
	}
	replication, err := req.intParam("replication", 3, 1)
	if err != nil {
		return err
	}
	blockSize, err := req.intParam("blocksize", 128<<20, 1)
	if err != nil {
		return err
	}
	// Fail before reading the data when the namespace already says no.
	if err := dn.fs.checkCreate(req.path, overwrite); err != nil {
		return err
	}
	data, rerr := io.ReadAll(r.Body)
	if rerr != nil {
		return raise(errIO, "reading the data: %v", rerr)
	}
	f := &inode{data: data, perm: perm, owner: req.user, replication: int32(replication), blockSize: blockSize}
	if err := dn.fs.createFile(req.path, f, overwrite); err != nil {
		return err
	}
	w.Header().Set("Location", "hdfs://"+req.query.Get("namenoderpcaddress")+(&url.URL{Path: req.path}).EscapedPath())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (dn *dataNode) open(w http.ResponseWriter, req *request) *remoteError {
	offset, err := req.intParam("offset", 0, 0)
	if err != nil {
		return err
	}
	length, err := req.intParam("length", -1, 0)
	if err != nil {
		return err
	}
	data, err := dn.fs.read(req.path, offset, length)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
	return nil
}
