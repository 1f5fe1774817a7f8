package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/integration/internal/winrmserver"
	"github.com/krbhttp/krbhttp/wsman"
)

// pywinrmScript runs one command with pywinrm (Debian's python3-winrm)
// through its whole protocol (open_shell, run_command, get_command_output
// with its OperationTimeout retries, cleanup_command, close_shell) and
// prints the result as JSON. Arguments: endpoint, CA file, message
// encryption mode, command, arguments. The one-second operation timeout
// makes a silent command exercise pywinrm's handling of our TimedOut
// fault.
const pywinrmScript = `
import json, sys, warnings
warnings.simplefilter("ignore")
from winrm.protocol import Protocol

url, ca, encryption, command = sys.argv[1:5]
kw = dict(endpoint=url, transport="kerberos", message_encryption=encryption, operation_timeout_sec=1, read_timeout_sec=10)
if url.startswith("https"):
    kw.update(server_cert_validation="validate", ca_trust_path=ca)
p = Protocol(**kw)
shell = p.open_shell()
cmd = p.run_command(shell, command, sys.argv[5:])
out, err, code = p.get_command_output(shell, cmd)
p.cleanup_command(shell, cmd)
p.close_shell(shell)
print(json.dumps({"stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace"), "code": code}))
`

type runResult struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

// pywinrm runs pywinrmScript with alice's cache.
func pywinrm(t *testing.T, cc string, ep *winrmEndpoint, encryption, command string, args ...string) runResult {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import winrm").CombinedOutput(); err != nil {
		t.Fatalf("pywinrm is needed: apt-get install -y python3-winrm (%v: %s)", err, out)
	}
	ca := ""
	if ep.site != nil {
		ca = ep.site.caFile
	}
	cmd := exec.Command("/usr/bin/python3", append([]string{"-c", pywinrmScript, ep.URL, ca, encryption, command}, args...)...)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+env.realm.ConfigPath, "KRB5CCNAME="+cc, "KRB5RCACHETYPE=none")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pywinrm: %v\n%s", err, stderr.String())
	}
	var r runResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("pywinrm printed %q: %v", stdout.String(), err)
	}
	return r
}

// TestPywinrmAgainstOurEndpoint: pywinrm, over https and over http with
// AllowUnencrypted (Debian's pywinrm 0.3 cannot encrypt Kerberos
// messages), gets the stdout, stderr and exit code our client gets for the
// same commands. The https server checks channel bindings as WinRM does by
// default (Relaxed): Debian's pykerberos has no channelBindings, so
// requests-kerberos sends none, and Strict would refuse it.
func TestPywinrmAgainstOurEndpoint(t *testing.T) {
	t.Parallel()
	cc := kinit(t, "alice")
	for _, c := range []struct {
		name       string
		setup      winrmSetup
		encryption string
	}{
		{"https", winrmSetup{tls: true, binding: acceptor.BindingRelaxed}, "auto"},
		{"http-unencrypted", winrmSetup{server: winrmserver.Config{AllowUnencrypted: true}}, "never"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ep := startWinRM(t, c.setup)
			ours := winrmClient(t, ep, cc, wsman.WithEncryption(map[string]wsman.Encryption{"auto": wsman.EncryptAuto, "never": wsman.EncryptNever}[c.encryption]))
			for _, command := range [][]string{{"echo", "hello", "from", "pywinrm"}, {"echo out; echo err >&2; exit 5"}, {"sleep 2; echo slow"}} {
				got := pywinrm(t, cc, ep, c.encryption, command[0], command[1:]...)
				stdout, stderr, code := remote(t, ours, wsman.RunRequest{Command: command[0], Args: command[1:]})
				want := runResult{Stdout: stdout, Stderr: stderr, Code: code}
				if got != want || want.Stdout == "" {
					t.Fatalf("%v: pywinrm got %+v, our client %+v", command, got, want)
				}
			}
		})
	}
}

// winrs runs the winrs command with alice's cache and the realm's
// configuration, stdin as given, and returns its exit code and output.
func winrs(t *testing.T, cc string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(tool(t, "github.com/krbhttp/krbhttp/wsman/cmd/winrs"), args...)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+env.realm.ConfigPath, "KRB5CCNAME="+cc)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestWinrsCommand: winrs forwards stdin, streams the output and exits
// with the remote exit code, over http with encryption and over https
// with channel bindings the server requires.
func TestWinrsCommand(t *testing.T) {
	t.Parallel()
	cc := kinit(t, "alice")
	httpEP := startWinRM(t, winrmSetup{})
	httpsEP := startWinRM(t, winrmSetup{tls: true, binding: acceptor.BindingStrict})
	for _, c := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		out   string
	}{
		{"stdin through cat over http", []string{"-r", httpEP.URL, "--", "cat"}, "piped through\n", 0, "piped through\n"},
		{"exit code over http", []string{"-r", httpEP.URL, "--env", "N=9", "--", "exit", "$N"}, "", 9, ""},
		{"workdir over http", []string{"-r", httpEP.URL, "--workdir", "/tmp", "--no-stdin", "--", "pwd"}, "", 0, "/tmp\n"},
		{"https with channel binding", []string{"-r", httpsEP.URL, "--cacert", httpsEP.site.caFile, "--", "echo", "tls"}, "", 0, "tls\n"},
		{"encrypted inside https", []string{"-r", httpsEP.URL, "--cacert", httpsEP.site.caFile, "--encryption", "always", "--auth-scheme", "kerberos", "--", "echo", "both"}, "", 0, "both\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := winrs(t, cc, c.stdin, c.args...)
			if code != c.code || stdout != c.out {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q", code, stdout, stderr, c.code, c.out)
			}
		})
	}
	code, _, stderr := winrs(t, cc, "", "-r", httpEP.URL+"x", "--", "true")
	if code != 125 || !strings.Contains(stderr, "winrs:") {
		t.Fatalf("a wrong endpoint: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = winrs(t, cc, "", "--", "true")
	if code != 125 || !strings.Contains(stderr, "-r URL is required") {
		t.Fatalf("no endpoint: exit %d, stderr %q", code, stderr)
	}
	// Failures a user can fix are explained with winrs's own flags.
	for _, c := range []struct {
		name, cc string
		args     []string
		advice   string
	}{
		{"no ticket", "FILE:" + filepath.Join(t.TempDir(), "none"), nil, "no Kerberos ticket: run kinit, or log in with --principal and --password-file or --keytab"},
		{"service unknown to the KDC", cc, []string{"--hostname-override", "nosuch.example.test"}, "give the host name the service is registered under with --hostname-override"},
		{"ticket the server has no key for", cc, []string{"--hostname-override", "127.0.0.1"} /* in the realm, not in this server's keytab */, "its keytab may lack the service's current key"},
	} {
		code, _, stderr := winrs(t, c.cc, "", append(append([]string{"-r", httpEP.URL}, c.args...), "--", "true")...)
		if code != 125 || !strings.Contains(stderr, c.advice) {
			t.Errorf("%s: exit %d, stderr %q; want 125 and advice naming %q", c.name, code, stderr, c.advice)
		}
	}
}
