package mitpeer

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Packages lists the Debian packages this harness needs.
const Packages = "python3-gssapi krb5-user"

const python = "/usr/bin/python3"

// Config says how the server runs.
type Config struct {
	Keytab     string // keytab with the HTTP/<host> key
	Krb5Config string // KRB5_CONFIG
	// CertFile and KeyFile (PEM) make the server speak HTTPS.
	CertFile, KeyFile string
	// ChannelBindings is the tls-server-end-point application data MIT's
	// acceptor is given (gss.TLSServerEndPoint of the server certificate,
	// or of another one to provoke a mismatch); nil gives it none.
	ChannelBindings []byte
}

// Result is the JSON body of every response.
type Result struct {
	Initiator string `json:"initiator"`
	Flags     uint32 `json:"flags"`
	// Delegated names the delegated credentials, "" without delegation.
	Delegated string `json:"delegated"`
	// SecondHop is "ok" when MIT initiated a context to the service
	// principal given as query string with the delegated credentials (it
	// needed a service ticket from the KDC for that), else MIT's error.
	SecondHop string `json:"second_hop"`
	Error     string `json:"error"`
}

// GSS context flags MIT reports.
const (
	FlagDelegate     = 0x01
	FlagMutual       = 0x02
	FlagChannelBound = 0x800 // GSS_C_CHANNEL_BOUND_FLAG
)

// Server is a running peer.
type Server struct {
	URL string // scheme://localhost:port
}

// script is the server. A token that MIT refuses gets 401 with the
// reason in the body; a GET with a query string "?SERVICE/host@REALM"
// tries the delegated credentials on that service.
const script = `
import base64, http.server, json, ssl, sys, urllib.parse
import gssapi
from gssapi.raw import ChannelBindings

certfile, keyfile, cb = sys.argv[1:4]
bindings = None if cb == "-" else ChannelBindings(application_data=bytes.fromhex(cb))

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "negotiate":
            return self.reply(401, {"error": "no Negotiate token"}, "Negotiate")
        try:
            ctx = gssapi.SecurityContext(usage="accept", channel_bindings=bindings)
            out = ctx.step(base64.b64decode(token.strip()))
            # python-gssapi keeps the error of a step that produced a token
            # (MIT's SPNEGO reject) and raises it on the next access.
            complete = ctx.complete
            res = {"initiator": str(ctx.initiator_name), "flags": int(ctx.actual_flags), "delegated": ""}
        except Exception as e:
            return self.reply(401, {"error": str(e)}, "Negotiate")
        if not complete:
            return self.reply(401, {"error": "context not established"}, "Negotiate")
        deleg = ctx.delegated_creds
        if deleg is not None:
            res["delegated"] = str(deleg.name)
            spn = urllib.parse.unquote(urllib.parse.urlsplit(self.path).query)
            if spn:
                try:
                    nxt = gssapi.SecurityContext(name=gssapi.Name(spn, gssapi.NameType.kerberos_principal),
                                                 creds=deleg, usage="initiate")
                    nxt.step()
                    res["second_hop"] = "ok"
                except Exception as e:
                    res["second_hop"] = str(e)
        self.reply(200, res, "Negotiate " + base64.b64encode(out).decode() if out else None)

    def reply(self, status, obj, challenge):
        body = json.dumps(obj).encode()
        self.send_response(status)
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if certfile != "-":
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certfile, keyfile)
    srv.socket = tls.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
`

// Start runs the server until the test ends. It fails the test (never
// skips) when python3-gssapi is missing.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import gssapi").CombinedOutput(); err != nil {
		t.Fatalf("mitpeer: %s -c 'import gssapi': %v: %s (apt-get install -y %s)", python, err, out, Packages)
	}
	certFile, keyFile, scheme := "-", "-", "http"
	if cfg.CertFile != "" {
		certFile, keyFile, scheme = cfg.CertFile, cfg.KeyFile, "https"
	}
	cb := "-"
	if cfg.ChannelBindings != nil {
		cb = hex.EncodeToString(cfg.ChannelBindings)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, python, "-c", script, certFile, keyFile, cb)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KRB5") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	trace := filepath.Join(dir, "krb5.trace")
	cmd.Env = append(cmd.Env, "KRB5_CONFIG="+cfg.Krb5Config, "KRB5_KTNAME="+cfg.Keytab,
		"KRB5RCACHEDIR="+dir, "KRB5CCNAME=FILE:"+filepath.Join(dir, "ccache"), "KRB5_TRACE="+trace)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			// MIT's trace says why it refused a token.
			b, _ := os.ReadFile(trace)
			t.Logf("mitpeer stderr:\n%s\nKRB5_TRACE:\n%s", stderr.String(), b)
		}
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		port <- strings.TrimSpace(line)
	}()
	select {
	case p := <-port:
		if p == "" {
			t.Fatalf("mitpeer: the server did not start: %s", stderr.String())
		}
		return &Server{URL: fmt.Sprintf("%s://localhost:%s", scheme, p)}
	case <-time.After(20 * time.Second):
		t.Fatalf("mitpeer: no port after 20s: %s", stderr.String())
	}
	return nil
}
