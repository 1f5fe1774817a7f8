package restapis

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// dataNode serves the redirected data operations as a datanode's
// WebHdfsHandler: no SPNEGO (a datanode has no HTTP authentication filter
// on /webhdfs), the user taken from the delegation token in the URL
// (DataNodeUGIProvider) or from user.name without security, and every
// file system call made to the namenode at namenoderpcaddress, which
// checks the token as it checks any RPC's.
type dataNode struct {
	nn *nameNode
}

// datanodeJSON is the datanode's JSON content type.
const datanodeJSON = "application/json; charset=utf-8"

func (dn *dataNode) serve(w http.ResponseWriter, r *http.Request, req *request) *remoteError {
	dn.nn.dnRequests.Add(1)
	// The datanode closes the connection after an error and after OPEN
	// and GETFILECHECKSUM.
	w.Header().Set("Connection", "close")
	u, err := dn.user(req)
	if err != nil {
		return err
	}
	switch {
	case r.Method == http.MethodPut && req.op == "CREATE":
		return dn.create(w, r, req, u)
	case r.Method == http.MethodPost && req.op == "APPEND":
		if _, err := req.intParam("buffersize", 4096, 1); err != nil {
			return err
		}
		data, rerr := io.ReadAll(r.Body)
		if rerr != nil {
			return raise(errIO, "reading the data: %v", rerr)
		}
		if err := dn.nn.fs.appendFile(u, req.path, data); err != nil {
			return err
		}
		w.Header().Del("Connection")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && req.op == "OPEN":
		return dn.open(w, req, u)
	case r.Method == http.MethodGet && req.op == "GETFILECHECKSUM":
		fs := dn.nn.fs
		fs.mu.Lock()
		n, err := fs.readableFileLocked(u, req.path)
		var sum map[string]any
		if err == nil {
			sum = checksum(n)
		}
		fs.mu.Unlock()
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, datanodeJSON, map[string]any{"FileChecksum": sum})
	case r.Method == http.MethodOptions && req.op == "CREATE":
		// The preflight of a browser's CREATE.
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Headers", "Accept")
		h.Set("Access-Control-Allow-Methods", "PUT")
		h.Set("Access-Control-Max-Age", "1728000")
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	default:
		return raise(errIllegalArgument, "Invalid operation %s", req.op)
	}
	return nil
}

// user is DataNodeUGIProvider.ugi: the token's owner on a secure cluster,
// checked, as the datanode's DFSClient calls would check it, with the
// namenode at namenoderpcaddress.
func (dn *dataNode) user(req *request) (*caller, *remoteError) {
	nn := dn.nn
	if !nn.secure {
		name := req.str("user.name")
		if name == "" {
			name = "dr.who"
		}
		if doas := req.str("doas"); doas != "" {
			name = doas
		}
		return nn.fs.callerFor(name, req.addr), nil
	}
	_, id, err := nn.tokens.parse(req.str("delegation"))
	if err != nil {
		return nil, fromTokenError(err)
	}
	switch rpc := req.str("namenoderpcaddress"); {
	case rpc == "":
		return nil, raise(errIllegalArgument, "java.net.UnknownHostException: null")
	case rpc != nn.rpcAddress:
		return nil, raise(errConnect, "Call From datanode to %s failed on connection exception: java.net.ConnectException: Connection refused", rpc)
	}
	if _, err := nn.tokens.verify(req.str("delegation")); err != nil {
		return nil, fromTokenError(err)
	}
	return nn.fs.callerFor(id.owner, req.addr), nil
}

func (dn *dataNode) create(w http.ResponseWriter, r *http.Request, req *request, u *caller) *remoteError {
	opts, err := createParams(req)
	if err != nil {
		return err
	}
	fs := dn.nn.fs
	// Fail before reading the data when the namespace already says no.
	fs.mu.Lock()
	err = fs.checkCreateLocked(u, req.path, opts.overwrite, opts.createParent)
	fs.mu.Unlock()
	if err != nil {
		return err
	}
	data, rerr := io.ReadAll(r.Body)
	if rerr != nil {
		return raise(errIO, "reading the data: %v", rerr)
	}
	if err := fs.createFile(u, req.path, opts, data); err != nil {
		return err
	}
	h := w.Header()
	h.Del("Connection")
	h.Set("Location", "hdfs://"+req.str("namenoderpcaddress")+(&url.URL{Path: req.path}).EscapedPath())
	h.Set("Content-Length", "0")
	h.Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (dn *dataNode) open(w http.ResponseWriter, req *request, u *caller) *remoteError {
	offset, length, err := req.byteRange()
	if err != nil {
		return err
	}
	data, err := dn.nn.fs.read(u, req.path, offset, length)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
	return nil
}
