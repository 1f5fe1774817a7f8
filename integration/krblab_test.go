package integration

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/acceptor"
)

func krblab(t *testing.T) string { return tool(t, "github.com/krbhttp/krbhttp/integration/cmd/krblab") }

// withoutKRB5 is the test's environment minus the Kerberos settings of the
// suite's own realm, and with dir first in PATH.
func withoutKRB5(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "KRB5"):
		case strings.HasPrefix(kv, "PATH="):
			env = append(env, "PATH="+dir+string(os.PathListSeparator)+strings.TrimPrefix(kv, "PATH="))
		default:
			env = append(env, kv)
		}
	}
	return env
}

// TestKrblabRunsCommand: "krblab -- sh -c 'krbcurl ...'" gives the command
// a realm, a logged-in user and the servers through its environment
// alone: krbcurl gets 200 from the IIS-like server over HTTP and (with
// KRBLAB_CA) over HTTPS with channel binding, and from the WebHDFS
// namenode; krblab exits with the command's status.
func TestKrblabRunsCommand(t *testing.T) {
	t.Parallel()
	lab, curl := krblab(t), krbcurl(t)
	script := `set -e
krbcurl --fail "$KRBLAB_URL/whoami"
krbcurl --fail --cacert "$KRBLAB_CA" "$KRBLAB_HTTPS_URL/whoami"
krbcurl --fail "$KRBLAB_WEBHDFS_URL/webhdfs/v1/?op=GETFILESTATUS"
krbcurl --fail --principal "$KRBLAB_PRINCIPAL" --password-file "$KRBLAB_PASSWORD_FILE" "$KRBLAB_URL/whoami"
exit 7`
	cmd := exec.Command(lab, "--", "sh", "-c", script)
	cmd.Env = withoutKRB5(filepath.Dir(curl))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("krblab: %v (want exit 7)\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	lines := strings.Fields(stdout.String()) // the JSON answers have no spaces
	if len(lines) != 4 {
		t.Fatalf("want 4 responses, got:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	for i, want := range []bool{false, true} {
		var saw struct {
			Principal    string `json:"principal"`
			ChannelBound bool   `json:"channel_bound"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &saw); err != nil || saw.Principal != "alice@KRBHTTP.TEST" || saw.ChannelBound != want {
			t.Errorf("response %d: %q (%v); want alice@KRBHTTP.TEST, channel bound %v", i, lines[i], err, want)
		}
	}
	if !strings.Contains(lines[2], `"FileStatus"`) || !strings.Contains(lines[3], "alice@KRBHTTP.TEST") {
		t.Errorf("WebHDFS or password login: %q, %q", lines[2], lines[3])
	}
}

// TestKrblabExports: without a command, krblab prints export lines and
// serves until interrupted; a client given only those variables is
// authenticated; on SIGINT krblab exits 0 and removes its directory.
func TestKrblabExports(t *testing.T) {
	t.Parallel()
	lab, curl := krblab(t), krbcurl(t)
	cmd := exec.Command(lab)
	cmd.Env = withoutKRB5(filepath.Dir(curl))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	defer func() {
		_ = cmd.Process.Kill()
		<-done
	}()
	exports := map[string]string{}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	timeout := time.After(60 * time.Second)
read:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("krblab stopped before it was ready: %s", stderr.String())
			}
			if strings.HasPrefix(line, "# krblab ready") {
				break read
			}
			name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok || !strings.HasPrefix(line, "export ") {
				t.Fatalf("not an export line: %q", line)
			}
			exports[name] = value
		case <-timeout:
			t.Fatalf("krblab not ready in 60 s: %s", stderr.String())
		}
	}
	go func() { done <- cmd.Wait() }()
	for _, name := range []string{"KRB5_CONFIG", "KRB5CCNAME", "KRBLAB_URL", "KRBLAB_HTTPS_URL", "KRBLAB_CA", "KRBLAB_WSMAN_URL", "KRBLAB_WEBHDFS_URL"} {
		if exports[name] == "" {
			t.Errorf("no export of %s in %v", name, exports)
		}
	}
	code, out, errOut := runWith(t, exports["KRB5_CONFIG"], exports["KRB5CCNAME"], "", curl, "-i", exports["KRBLAB_URL"]+"/whoami")
	if code != 0 || !strings.HasPrefix(out, "HTTP/1.1 200 OK") || !strings.Contains(out, `"principal":"alice@KRBHTTP.TEST"`) {
		t.Fatalf("krbcurl $KRBLAB_URL/whoami: exit %d\n%s\n%s", code, out, errOut)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err // for the deferred wait
		if err != nil {
			t.Fatalf("krblab after SIGINT: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("krblab did not stop within 30 s of SIGINT")
	}
	if _, err := os.Stat(filepath.Dir(exports["KRB5_CONFIG"])); !os.IsNotExist(err) {
		t.Errorf("the lab directory is left behind: %v", err)
	}
}

// TestKrbcurlHTTPToHTTPSPort: http:// to a port that speaks TLS gets a 400
// from Go's server, whose explanation sanitizing drops (it carries no
// mutual authentication token): krbcurl says the body was dropped, names
// --no-sanitize, and says the port speaks HTTPS.
func TestKrbcurlHTTPToHTTPSPort(t *testing.T) {
	t.Parallel()
	site := newTLSSite(t)
	url, _ := startTLSServer(t, site, acceptor.BindingNone, nil)
	plain := "http://" + strings.TrimPrefix(url, "https://")
	cc := kinit(t, "alice")
	code, out, errOut := runWith(t, env.realm.ConfigPath, cc, "", krbcurl(t), "-i", plain+"/whoami")
	if code != 0 || !strings.HasPrefix(out, "HTTP/1.0 400") {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	host := strings.TrimPrefix(plain, "http://")
	for _, want := range []string{"--no-sanitize", host + " speaks HTTPS", "use https://" + host} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not say %q", errOut, want)
		}
	}
	code, out, errOut = runWith(t, env.realm.ConfigPath, cc, "", krbcurl(t), "--no-sanitize", plain+"/whoami")
	if code != 0 || !strings.Contains(out, "HTTPS server") || strings.Contains(errOut, "--no-sanitize") {
		t.Errorf("--no-sanitize: exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	t.Logf("krbcurl http:// to an HTTPS port:\n%s", errOut)
}
