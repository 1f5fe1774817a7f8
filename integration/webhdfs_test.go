package integration

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/sdk/webhdfs"
)

// webhdfsClient is a WebHDFS client of the lab as a new user, with default
// auth options (mutual authentication required).
func webhdfsClient(t *testing.T, lab *sdkLab, opts ...auth.Option) (*webhdfs.ClientWithResponses, string) {
	t.Helper()
	user, password := newUser(t)
	hc := lab.client(t, append([]auth.Option{auth.WithPrincipal(user), auth.WithPassword(password)}, opts...)...)
	c, err := webhdfs.NewWithClient(lab.namenode.URL, hc)
	if err != nil {
		t.Fatal(err)
	}
	return c, user
}

// TestWebHDFSDefaultOptionsThroughHadoopStyleCluster is the issue's
// acceptance test: with default options the client CREATEs and OPENs
// through a namenode that does SPNEGO and a datanode that does not (the
// delegation token in the redirect), reports success, sends no Kerberos to
// the datanode, and reuses the namenode's hadoop.auth cookie over HTTPS.
func TestWebHDFSDefaultOptionsThroughHadoopStyleCluster(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, true)
	c, user := webhdfsClient(t, lab)
	ctx := t.Context()
	home := "tmp/" + user

	mk, err := c.PutWithBodyWithResponse(ctx, home+"/in", &webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS}, "", nil)
	check(t, "MKDIRS", mk, err)

	// CREATE through the redirect: the 5 MB go to the datanode once.
	data := bytes.Repeat([]byte("webhdfs!"), 5<<20/8)
	nnBefore, dnBefore := lab.namenode.read.Load(), lab.datanode.read.Load()
	cr, err := c.PutWithBodyWithResponse(ctx, home+"/in/big.bin", &webhdfs.PutParams{Op: webhdfs.PutOpCREATE},
		"application/octet-stream", bytes.NewReader(data))
	check(t, "CREATE", cr, err)
	if cr.StatusCode() != http.StatusCreated || cr.HTTPResponse.Header.Get("Location") != "hdfs://localhost:8020/"+home+"/in/big.bin" {
		t.Fatalf("CREATE: %s, Location %q; want 201 from the datanode", cr.Status(), cr.HTTPResponse.Header.Get("Location"))
	}
	nnRead, dnRead := lab.namenode.read.Load()-nnBefore, lab.datanode.read.Load()-dnBefore
	t.Logf("CREATE of %d bytes: the namenode read %d bytes, the datanode %d", len(data), nnRead, dnRead)
	if nnRead > 64<<10 || dnRead < int64(len(data)) || dnRead > int64(len(data))+64<<10 {
		t.Errorf("the namenode read %d bytes and the datanode %d; want the body once, at the datanode", nnRead, dnRead)
	}
	st, err := c.GetWithResponse(ctx, home+"/in/big.bin", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS})
	check(t, "GETFILESTATUS", st, err)
	if fs := st.JSON200.FileStatus; fs.Length != int64(len(data)) || fs.Owner != user || fs.Type != webhdfs.FileTypeFILE {
		t.Errorf("GETFILESTATUS: %+v; want %d bytes owned by %s (the owner of the redirect's token)", fs, len(data), user)
	}

	// CREATE from a file, without holding it in memory; APPEND; OPEN.
	file := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fb, err := c.PutWithBodyWithResponse(ctx, home+"/in/copy.bin", &webhdfs.PutParams{Op: webhdfs.PutOpCREATE},
		"application/octet-stream", webhdfs.FileBody(f, int64(len(data))))
	check(t, "CREATE with FileBody", fb, err)
	ap, err := c.PostWithBodyWithResponse(ctx, home+"/in/big.bin", &webhdfs.PostParams{Op: webhdfs.PostOpAPPEND},
		"application/octet-stream", strings.NewReader("tail"))
	check(t, "APPEND", ap, err)
	op, err := c.GetWithResponse(ctx, home+"/in/big.bin", &webhdfs.GetParams{Op: webhdfs.GetOpOPEN})
	check(t, "OPEN", op, err)
	if want := append(bytes.Clone(data), "tail"...); sha256.Sum256(op.Body) != sha256.Sum256(want) {
		t.Errorf("OPEN returned %d bytes, want the %d written", len(op.Body), len(want))
	}
	sum, err := c.GetWithResponse(ctx, home+"/in/copy.bin", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILECHECKSUM})
	check(t, "GETFILECHECKSUM", sum, err)

	ls, err := c.GetWithResponse(ctx, home+"/in", &webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS})
	check(t, "LISTSTATUS", ls, err)
	if list := ls.JSON200.FileStatuses.FileStatus; len(list) != 2 || list[0].PathSuffix != "big.bin" || list[1].PathSuffix != "copy.bin" {
		t.Errorf("LISTSTATUS: %+v", list)
	}
	dst := "/" + home + "/archive"
	rn, err := c.PutWithBodyWithResponse(ctx, home+"/in", &webhdfs.PutParams{Op: webhdfs.PutOpRENAME, Destination: &dst}, "", nil)
	check(t, "RENAME", rn, err)
	cs, err := c.GetWithResponse(ctx, home, &webhdfs.GetParams{Op: webhdfs.GetOpGETCONTENTSUMMARY})
	check(t, "GETCONTENTSUMMARY", cs, err)
	if sum := cs.JSON200.ContentSummary; sum.FileCount != 2 || sum.DirectoryCount != 2 || sum.Length != int64(2*len(data)+4) {
		t.Errorf("GETCONTENTSUMMARY after RENAME: %+v", sum)
	}
	del, err := c.DeleteWithResponse(ctx, home, &webhdfs.DeleteParams{Op: webhdfs.DeleteOpDELETE, Recursive: new(true)})
	check(t, "DELETE", del, err)

	// Kerberos to the namenode only, once: one service ticket, one SPNEGO
	// login, then the cookie; nothing for the datanode.
	if n, err := env.realm.TGSCount(user, "HTTP/localhost"); err != nil || n != 1 {
		t.Errorf("service tickets for HTTP/localhost: %d (%v), want 1", n, err)
	}
	if n, err := env.realm.TGSCount(user, "HTTP/127.0.0.1"); err != nil || n != 0 {
		t.Errorf("service tickets for the datanode's HTTP/127.0.0.1: %d (%v), want 0", n, err)
	}
	stats := lab.hdfs.Stats()
	t.Logf("namenode: %+v; datanode requests: %d", stats.Auth, stats.DataNodeRequests)
	if stats.Auth.SPNEGO != 1 || stats.Auth.Challenges != 1 || stats.Auth.Cookie < 10 {
		t.Errorf("namenode logins %+v: want one SPNEGO login (one 401), then the hadoop.auth cookie", stats.Auth)
	}
	if stats.DataNodeRequests != 5 || lab.credentialsAtDatanode.Load() != 0 {
		t.Errorf("datanode: %d requests, %d with Authorization or Cookie; want 5, none", stats.DataNodeRequests, lab.credentialsAtDatanode.Load())
	}
}

// TestWebHDFSOverHTTP: without TLS the cookie, which would travel in
// clear and vouch for nobody, is not reused: every namenode request logs
// in with Kerberos, and CREATE and OPEN still work with default options.
func TestWebHDFSOverHTTP(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, false)
	user, password := newUser(t)
	c, err := webhdfs.New(lab.namenode.URL, auth.WithConfig(env.conf), auth.WithPrincipal(user), auth.WithPassword(password))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cr, err := c.PutWithBodyWithResponse(ctx, "tmp/"+user+"/hello.txt", &webhdfs.PutParams{Op: webhdfs.PutOpCREATE},
		"text/plain", strings.NewReader("hello"))
	check(t, "CREATE", cr, err)
	op, err := c.GetWithResponse(ctx, "tmp/"+user+"/hello.txt", &webhdfs.GetParams{Op: webhdfs.GetOpOPEN})
	check(t, "OPEN", op, err)
	if string(op.Body) != "hello" {
		t.Errorf("OPEN: %q", op.Body)
	}
	if s := lab.hdfs.Stats().Auth; s.SPNEGO != 2 || s.Cookie != 0 {
		t.Errorf("namenode logins %+v: want a SPNEGO login per request, no cookie over HTTP", s)
	}
}

// TestWebHDFSDelegationTokens: a token obtained with Kerberos lets a
// client without any Kerberos work, including the datanode hop; only its
// renewer renews it, with Kerberos; once cancelled it opens nothing.
func TestWebHDFSDelegationTokens(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, true)
	c, user := webhdfsClient(t, lab)
	ctx := t.Context()

	gt, err := c.GetWithResponse(ctx, "", &webhdfs.GetParams{Op: webhdfs.GetOpGETDELEGATIONTOKEN, Renewer: &user})
	check(t, "GETDELEGATIONTOKEN", gt, err)
	token := gt.JSON200.Token.UrlString

	// A client with no Kerberos at all: a plain HTTPS client.
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: lab.ca.Pool(), MinVersion: tls.VersionTLS12}}}
	tc, err := webhdfs.NewWithDelegationToken(lab.namenode.URL, token, plain)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := tc.PutWithBodyWithResponse(ctx, "tmp/"+user+"/by-token.txt", &webhdfs.PutParams{Op: webhdfs.PutOpCREATE},
		"text/plain", strings.NewReader("written with a token"))
	check(t, "CREATE with the token", cr, err)
	st, err := tc.GetWithResponse(ctx, "tmp/"+user+"/by-token.txt", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS})
	check(t, "GETFILESTATUS with the token", st, err)
	if st.JSON200.FileStatus.Owner != user {
		t.Errorf("owner %s, want the token's owner %s", st.JSON200.FileStatus.Owner, user)
	}
	op, err := tc.GetWithResponse(ctx, "tmp/"+user+"/by-token.txt", &webhdfs.GetParams{Op: webhdfs.GetOpOPEN})
	check(t, "OPEN with the token", op, err)
	if string(op.Body) != "written with a token" {
		t.Errorf("OPEN: %q", op.Body)
	}
	if s := lab.hdfs.Stats().Auth; s.Bypassed < 3 {
		t.Errorf("namenode %+v: the token requests did not go around the SPNEGO filter", s)
	}

	// Renewal: with Kerberos, by the renewer; not with the token.
	rn, err := c.PutWithBodyWithResponse(ctx, "", &webhdfs.PutParams{Op: webhdfs.PutOpRENEWDELEGATIONTOKEN, Token: &token}, "", nil)
	check(t, "RENEWDELEGATIONTOKEN", rn, err)
	if exp := time.UnixMilli(*rn.JSON200.Long); time.Until(exp) < 23*time.Hour || time.Until(exp) > 25*time.Hour {
		t.Errorf("renewed until %v, want a day from now", exp)
	}
	rt, err := tc.PutWithBodyWithResponse(ctx, "", &webhdfs.PutParams{Op: webhdfs.PutOpRENEWDELEGATIONTOKEN, Token: &token}, "", nil)
	wantRemote(t, rt, err, http.StatusForbidden, "IOException")
	other, _ := webhdfsClient(t, lab)
	ro, err := other.PutWithBodyWithResponse(ctx, "", &webhdfs.PutParams{Op: webhdfs.PutOpRENEWDELEGATIONTOKEN, Token: &token}, "", nil)
	wantRemote(t, ro, err, http.StatusForbidden, "AccessControlException")
	gtt, err := tc.GetWithResponse(ctx, "", &webhdfs.GetParams{Op: webhdfs.GetOpGETDELEGATIONTOKEN})
	wantRemote(t, gtt, err, http.StatusBadRequest, "IllegalArgumentException")

	cl, err := c.PutWithBodyWithResponse(ctx, "", &webhdfs.PutParams{Op: webhdfs.PutOpCANCELDELEGATIONTOKEN, Token: &token}, "", nil)
	check(t, "CANCELDELEGATIONTOKEN", cl, err)
	gone, err := tc.GetWithResponse(ctx, "tmp/"+user, &webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS})
	wantRemote(t, gone, err, http.StatusForbidden, "SecurityException")
	if msg := gone.JSONDefault.RemoteException.Message; !strings.Contains(msg, "SecretManager$InvalidToken") || !strings.Contains(msg, "can't be found in cache") {
		t.Errorf("message %q", msg)
	}
}

// wantRemote fails unless the response is the given RemoteException.
func wantRemote(t *testing.T, r interface {
	StatusCode() int
	Status() string
	GetJSONDefault() *webhdfs.Error
}, err error, status int, exception string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var re *webhdfs.ResponseError
	if !errors.As(webhdfs.CheckResponse(r), &re) || re.StatusCode != status || re.Body == nil || re.Body.RemoteException.Exception != exception {
		t.Fatalf("got %v, want %d %s", webhdfs.CheckResponse(r), status, exception)
	}
}

// TestWebHDFSExpiredCookie: a cookie the namenode no longer accepts gets
// a 401, which the client answers with a new Kerberos login.
func TestWebHDFSExpiredCookie(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	offset := time.Duration(0)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}
	lab := startSDKLab(t, true, func(cfg *restapis.WebHDFSConfig) { cfg.Now = now })
	c, user := webhdfsClient(t, lab)
	list := func() {
		t.Helper()
		r, err := c.GetWithResponse(t.Context(), "tmp", &webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS})
		check(t, "LISTSTATUS", r, err)
	}
	list()
	list()
	mu.Lock()
	offset = 11 * time.Hour // past hadoop.http.authentication.token.validity
	mu.Unlock()
	list()
	list()
	if s := lab.hdfs.Stats().Auth; s.SPNEGO != 2 || s.Challenges != 2 || s.Cookie != 2 {
		t.Errorf("namenode logins %+v: want SPNEGO, cookie, SPNEGO after the 401 for the expired cookie, cookie", s)
	}
	if n, err := env.realm.TGSCount(user, "HTTP/localhost"); err != nil || n != 1 {
		t.Errorf("service tickets: %d (%v), want 1 (the ticket is reused for the new login)", n, err)
	}
}

// TestWebHDFSRedirectTrustedOnlyFromAnAuthenticatedNamenode: a "namenode"
// that does not authenticate itself gets its redirect refused with
// default options, before anything reaches the target; with mutual
// authentication relaxed by the caller the target must pass the caller's
// own rules, so the datanode hop is not special any more.
func TestWebHDFSRedirectTrustedOnlyFromAnAuthenticatedNamenode(t *testing.T) {
	t.Parallel()
	var reached sync.Map
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Store(r.URL.Query().Get("op"), true)
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(target.Close)
	impostor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.RequestURI()+"&namenoderpcaddress=nn:8020", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(impostor.Close)
	user, password := newUser(t)
	c, err := webhdfs.New(impostor.URL, auth.WithConfig(env.conf), auth.WithPrincipal(user), auth.WithPassword(password))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutWithBodyWithResponse(t.Context(), "f", &webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "text/plain", strings.NewReader("secret"))
	var me *auth.MutualAuthenticationError
	if !errors.As(err, &me) || me.Response.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("CREATE through an unauthenticated namenode: %v, want its 307 refused", err)
	}
	if _, ok := reached.Load("CREATE"); ok {
		t.Error("the data went to the target of an unauthenticated redirect")
	}
}

// TestWebHDFSRequestsKerberosAgainstTheNamenode checks the namenode model
// against a client nobody here wrote: Python requests-kerberos, which
// authenticates to the namenode, follows the redirect to the datanode
// (sending it no Negotiate token, since the datanode does not ask), and
// checks mutual authentication once, on the namenode's answer.
func TestWebHDFSRequestsKerberosAgainstTheNamenode(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, false)
	ccache := kinit(t, "alice")
	script := `
import sys, requests
from requests_kerberos import HTTPKerberosAuth, REQUIRED
base = sys.argv[1]
s = requests.Session()
s.auth = HTTPKerberosAuth(mutual_authentication=REQUIRED)
r = s.put(base + "/webhdfs/v1/tmp/from-python.txt?op=CREATE", data=b"from python")
print(r.status_code, r.headers.get("Location", ""))
r = s.get(base + "/webhdfs/v1/tmp/from-python.txt?op=OPEN")
print(r.status_code, r.text)
`
	code, out, errOut := runTool(t, ccache, "/usr/bin/python3", "-c", script, lab.namenode.URL)
	if code != 0 {
		t.Fatalf("python: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != "201 hdfs://localhost:8020/tmp/from-python.txt" || lines[1] != "200 from python" {
		t.Fatalf("requests-kerberos: %q", out)
	}
	if lab.credentialsAtDatanode.Load() != 0 {
		t.Error("requests-kerberos sent credentials to the datanode")
	}
	if s := lab.hdfs.Stats(); s.Auth.SPNEGO < 1 || s.DataNodeRequests != 2 {
		t.Errorf("stats %+v", s)
	}
}
