package kdctest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultRealm is the realm [Start] and [New] create.
const DefaultRealm = "KRBHTTP.TEST"

// Packages lists the Debian packages that provide the binaries used here.
const Packages = "krb5-kdc krb5-admin-server krb5-user"

// ErrMissingBinaries is returned when an MIT Kerberos program cannot be found.
var ErrMissingBinaries = errors.New("kdctest: MIT Kerberos binaries missing (install with: apt-get install -y " + Packages + ")")

// Realm is a running KDC and the files that describe it.
type Realm struct {
	Dir   string // temporary directory holding everything below
	Realm string // realm name, e.g. KRBHTTP.TEST
	// Domain is the DNS domain [domain_realm] maps to the realm:
	// krbhttp.test (and localhost, 127.0.0.1, ::1) for DefaultRealm, the
	// lower-cased realm name for others (partner.test for PARTNER.TEST).
	Domain     string
	ConfigPath string // krb5.conf for clients: set KRB5_CONFIG to it
	KDCProfile string // kdc.conf: KRB5_KDC_PROFILE
	KDCAddr    string // 127.0.0.1:port, UDP and TCP
	LogPath    string // the KDC log, one line per request

	bins map[string]string
	// ticket lifetimes (WithLifetimes); zero: the defaults
	maxLife, maxRenew time.Duration

	mu        sync.Mutex // guards passwords, cmd, stopped, peers
	passwords map[string]string
	peers     []*Realm // realms trusted both ways (Trust)
	cmd       *exec.Cmd
	exited    chan struct{}
	stopped   bool
	ownsDir   bool // made by NewTemp: Close removes Dir
}

var programs = []string{"krb5kdc", "kdb5_util", "kadmin.local", "kinit", "klist"}

func findBinaries() (map[string]string, error) {
	m := make(map[string]string, len(programs))
	for _, p := range programs {
		path, err := exec.LookPath(p)
		if err != nil {
			for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin"} {
				if _, serr := os.Stat(filepath.Join(dir, p)); serr == nil {
					path, err = filepath.Join(dir, p), nil
					break
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s not found", ErrMissingBinaries, p)
		}
		m[p] = path
	}
	return m, nil
}

// An Option adjusts the realm [New], [Start] and [NewTemp] make.
type Option func(*options)

type options struct {
	realm             string
	maxLife, maxRenew time.Duration
}

// WithRealm names the realm (default DefaultRealm), for a second realm
// beside the first, to be joined by [Trust].
func WithRealm(name string) Option { return func(o *options) { o.realm = name } }

// WithLifetimes compresses ticket lifetimes, for tests of refresh and
// renewal that cannot wait hours: the KDC issues tickets living at most
// maxLife, renewable until at most maxRenew after their start (0: not
// renewable), and clients are configured (ticket_lifetime,
// renew_lifetime) to ask for those. Both are whole seconds. The default
// is 10 hours, renewable for 7 days, with clients asking for neither.
func WithLifetimes(maxLife, maxRenew time.Duration) Option {
	return func(o *options) { o.maxLife, o.maxRenew = maxLife, maxRenew }
}

// Start creates a realm in a new temporary directory, starts its KDC and
// stops it when the test ends. It fails the test (never skips) when the MIT
// binaries are missing.
func Start(t testing.TB, opts ...Option) *Realm {
	t.Helper()
	r, err := New(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// New creates a realm in dir (which must exist) and starts its KDC. The
// caller must call Close.
func New(dir string, opts ...Option) (*Realm, error) {
	o := options{realm: DefaultRealm}
	for _, opt := range opts {
		opt(&o)
	}
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	var lastErr error
	// A port found free may be taken before the KDC binds it: try again.
	for range 3 {
		r := &Realm{
			Dir:        dir,
			Realm:      o.realm,
			Domain:     domainOf(o.realm),
			ConfigPath: filepath.Join(dir, "krb5.conf"),
			KDCProfile: filepath.Join(dir, "kdc.conf"),
			LogPath:    filepath.Join(dir, "kdc.log"),
			bins:       bins,
			passwords:  make(map[string]string),
			maxLife:    o.maxLife,
			maxRenew:   o.maxRenew,
		}
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		r.KDCAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := r.writeFiles(); err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, "principal")); err != nil {
			if _, err := r.run(nil, r.bins["kdb5_util"], "-r", r.Realm, "create", "-s", "-P", "master-password"); err != nil {
				return nil, err
			}
		}
		if lastErr = r.startKDC(); lastErr == nil {
			return r, nil
		}
	}
	return nil, lastErr
}

// Trust sets up a two-way cross-realm trust between a and b, as an
// administrator does with kadmin: krbtgt/B@A and krbtgt/A@B, each with
// the same key in both databases. Each realm's krb5.conf then lists the
// other's KDC and domain, and both KDCs are restarted, so that each refers
// clients asking for a host of the other's domain there (KDC referrals
// come from the KDC's own [domain_realm]).
func Trust(a, b *Realm) error {
	for _, p := range [][2]*Realm{{a, b}, {b, a}} {
		from, to := p[0], p[1]
		name := "krbtgt/" + to.Realm + "@" + from.Realm
		pw := "cross-" + strings.ToLower(to.Realm+"-"+from.Realm) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		for _, db := range []*Realm{from, to} {
			out, err := db.kadmin(fmt.Sprintf("addprinc -pw %s %s", pw, name))
			if err == nil && !strings.Contains(out, "created") {
				err = fmt.Errorf("kdctest: addprinc %s in %s: %s", name, db.Realm, out)
			}
			if err != nil {
				return err
			}
		}
	}
	for _, p := range [][2]*Realm{{a, b}, {b, a}} {
		p[0].mu.Lock()
		p[0].peers = append(p[0].peers, p[1])
		p[0].mu.Unlock()
	}
	for _, r := range []*Realm{a, b} {
		if err := r.writeFiles(); err != nil {
			return err
		}
		if err := r.Restart(); err != nil {
			return err
		}
	}
	return nil
}

// Restart stops the KDC if it runs and starts it again on the same port
// (it then reads its configuration anew): after Stop, it ends a simulated
// KDC outage. The database and its keys are kept.
func (r *Realm) Restart() error {
	r.mu.Lock()
	attached := r.cmd == nil
	r.mu.Unlock()
	if attached {
		return nil // someone else's KDC (Attach)
	}
	if err := r.Stop(); err != nil {
		return err
	}
	r.mu.Lock()
	r.stopped = false
	r.mu.Unlock()
	return r.startKDC()
}

// freePort finds a loopback port free for both TCP and UDP.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		_ = l.Close()
		if err == nil {
			_ = u.Close()
			return port, nil
		}
	}
	return 0, errors.New("kdctest: no free loopback port")
}

func domainOf(realm string) string {
	if realm == DefaultRealm {
		return "krbhttp.test"
	}
	return strings.ToLower(realm)
}

// realmsSection is the realm's [realms] entry.
func (r *Realm) realmsSection() string {
	return fmt.Sprintf("\t%s = {\n\t\tkdc = %s\n\t}\n", r.Realm, r.KDCAddr)
}

// domainRealm is the realm's part of [domain_realm].
func (r *Realm) domainRealm() string {
	var b strings.Builder
	if r.Realm == DefaultRealm {
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			fmt.Fprintf(&b, "\t%s = %s\n", h, r.Realm)
		}
	}
	fmt.Fprintf(&b, "\t.%[1]s = %[2]s\n\t%[1]s = %[2]s\n", r.Domain, r.Realm)
	return b.String()
}

func (r *Realm) writeFiles() error {
	r.mu.Lock()
	peers := append([]*Realm(nil), r.peers...)
	r.mu.Unlock()
	realms, domains := r.realmsSection(), r.domainRealm()
	for _, p := range peers {
		realms += p.realmsSection()
		domains += p.domainRealm()
	}
	krb5conf := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	forwardable = true
	default_ccache_name = FILE:%[2]s/krb5cc_default
	default_client_keytab_name = FILE:%[2]s/client.keytab
%[5]s
[realms]
%[3]s
[domain_realm]
%[4]s`, r.Realm, r.Dir, realms, domains, r.clientLifetimes())
	maxLife, maxRenew := "10h", "7d"
	if r.maxLife > 0 {
		maxLife, maxRenew = seconds(r.maxLife), seconds(r.maxRenew)
	}
	kdcconf := fmt.Sprintf(`[kdcdefaults]
	kdc_listen = %[3]s
	kdc_tcp_listen = %[3]s

[realms]
	%[1]s = {
		database_name = %[2]s/principal
		key_stash_file = %[2]s/stash
		acl_file = %[2]s/kadm5.acl
		kdc_listen = %[3]s
		kdc_tcp_listen = %[3]s
		max_life = %[4]s
		max_renewable_life = %[5]s
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
		default_principal_flags = +preauth
	}

[plugins]
	kdcpreauth = {
		disable = spake
	}

[logging]
	kdc = FILE:%[2]s/kdc.log
	admin_server = FILE:%[2]s/kadmin.log
	default = FILE:%[2]s/krb5lib.log
`, r.Realm, r.Dir, r.KDCAddr, maxLife, maxRenew)
	for name, content := range map[string]string{
		r.ConfigPath:                      krb5conf,
		r.KDCProfile:                      kdcconf,
		filepath.Join(r.Dir, "kadm5.acl"): "",
	} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// clientLifetimes is what krb5.conf's [libdefaults] asks for under
// WithLifetimes.
func (r *Realm) clientLifetimes() string {
	if r.maxLife <= 0 {
		return ""
	}
	s := "\tticket_lifetime = " + seconds(r.maxLife) + "\n"
	if r.maxRenew > 0 {
		s += "\trenew_lifetime = " + seconds(r.maxRenew) + "\n"
	}
	return s
}

func seconds(d time.Duration) string { return strconv.Itoa(int(d/time.Second)) + "s" }

// Env is the environment for MIT programs working on this realm: the
// process environment with KRB5_CONFIG, KRB5_KDC_PROFILE and a KRB5CCNAME
// inside the directory, so that nothing outside it is used.
func (r *Realm) Env() []string {
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KRB5") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"KRB5_CONFIG="+r.ConfigPath,
		"KRB5_KDC_PROFILE="+r.KDCProfile,
		"KRB5CCNAME=FILE:"+filepath.Join(r.Dir, "krb5cc_default"),
		"KRB5_CLIENT_KTNAME=FILE:"+filepath.Join(r.Dir, "client.keytab"),
	)
}

func (r *Realm) run(stdin []byte, name string, args ...string) (string, error) {
	return r.runEnv(nil, stdin, name, args...)
}

func (r *Realm) runEnv(extraEnv []string, stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(r.Env(), extraEnv...)
	cmd.Dir = r.Dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kdctest: %s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (r *Realm) startKDC() error {
	cmd := exec.Command(r.bins["krb5kdc"], "-n", "-r", r.Realm)
	cmd.Env = r.Env()
	cmd.Dir = r.Dir
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kdctest: start krb5kdc: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("kdctest: krb5kdc exited at start: %s", stderr.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", r.KDCAddr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = r.Close()
	return errors.New("kdctest: krb5kdc did not start listening within 10s")
}

// Stop stops the KDC process; the files stay, so tests can check how
// clients behave when the KDC is gone. It is safe to call more than once.
func (r *Realm) Stop() error {
	r.mu.Lock()
	cmd, exited, stopped := r.cmd, r.exited, r.stopped
	r.stopped = true
	r.mu.Unlock()
	if cmd == nil || stopped {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	return nil
}

// Close stops the KDC. The directory is left to its owner (t.TempDir
// removes it), except for a realm made by [NewTemp], whose directory Close
// removes.
func (r *Realm) Close() error {
	err := r.Stop()
	if r.ownsDir {
		if rerr := os.RemoveAll(r.Dir); err == nil {
			err = rerr
		}
	}
	return err
}

// NewTemp creates a realm in a new temporary directory and starts its KDC,
// for programs (demos, benchmarks) that have no testing.TB; Close stops the
// KDC and removes the directory.
func NewTemp(opts ...Option) (*Realm, error) {
	dir, err := os.MkdirTemp("", "krbhttp-realm-")
	if err != nil {
		return nil, err
	}
	r, err := New(dir, opts...)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	r.ownsDir = true
	return r, nil
}

// Principal returns name qualified with the realm unless it already is.
func (r *Realm) Principal(name string) string {
	if strings.Contains(name, "@") {
		return name
	}
	return name + "@" + r.Realm
}

func (r *Realm) kadmin(query string) (string, error) {
	return r.run(nil, r.bins["kadmin.local"], "-r", r.Realm, "-q", query)
}

// AddPrincipal creates a user principal with a password (MIT's default
// principal flags of the realm apply: pre-authentication required).
func (r *Realm) AddPrincipal(name, password string) error {
	out, err := r.kadmin(fmt.Sprintf("addprinc -pw %s %s", password, r.Principal(name)))
	if err == nil && !strings.Contains(out, "created") {
		err = fmt.Errorf("kdctest: addprinc %s: %s", name, out)
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.passwords[r.Principal(name)] = password
	r.mu.Unlock()
	return nil
}

// AddService creates a service principal such as "HTTP/web.krbhttp.test"
// with a random key, optionally flagged ok-as-delegate, and returns the
// path of a keytab holding its keys.
func (r *Realm) AddService(spn string, okAsDelegate bool) (string, error) {
	flag := ""
	if okAsDelegate {
		flag = "+ok_as_delegate "
	}
	out, err := r.kadmin(fmt.Sprintf("addprinc -randkey %s%s", flag, r.Principal(spn)))
	if err == nil && !strings.Contains(out, "created") {
		err = fmt.Errorf("kdctest: addprinc %s: %s", spn, out)
	}
	if err != nil {
		return "", err
	}
	return r.Keytab(spn)
}

// Keytab writes the current keys of principal to a new keytab file and
// returns its path. The keys are not changed (-norandkey), so a password
// principal keeps its password.
func (r *Realm) Keytab(principal string) (string, error) {
	name := strings.NewReplacer("/", "_", "@", "_").Replace(principal) + ".keytab"
	path := filepath.Join(r.Dir, name)
	_ = os.Remove(path)
	if _, err := r.kadmin(fmt.Sprintf("ktadd -k %s -norandkey %s", path, r.Principal(principal))); err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("kdctest: keytab for %s not written: %w", principal, err)
	}
	return path, nil
}

// RotateKey gives principal a new random key, as a key rotation does (the
// KDC then issues tickets under a new kvno), and returns the path of a new
// keytab holding only the new key: a service restarted with it refuses
// tickets issued before the rotation.
func (r *Realm) RotateKey(principal string) (string, error) {
	f, err := os.CreateTemp(r.Dir, "rotated-*.keytab")
	if err != nil {
		return "", err
	}
	path := f.Name()
	_ = f.Close()
	_ = os.Remove(path) // ktadd makes it
	if _, err := r.kadmin(fmt.Sprintf("ktadd -k %s %s", path, r.Principal(principal))); err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("kdctest: rotated keytab for %s not written: %w", principal, err)
	}
	return path, nil
}

// Kinit runs MIT kinit for principal into ccache (any name kinit accepts,
// e.g. "FILE:/path" or "DIR::/dir/tkt"), with the password given to
// AddPrincipal on standard input unless extraArgs select a keytab (-k).
// A collection ("DIR:/dir", "KCM:", "KEYRING:session:name") is passed as
// KRB5CCNAME rather than -c, as a user's default cache would be: kinit
// then reuses the principal's cache in the collection or makes a new one
// and switches the primary to it (with -c it would overwrite the primary
// cache). It fails the test on error; [Realm.Login] does the same for
// programs without a testing.TB.
func (r *Realm) Kinit(t testing.TB, principal, ccache string, extraArgs ...string) {
	t.Helper()
	if err := r.Login(principal, ccache, extraArgs...); err != nil {
		t.Fatal(err)
	}
}

// Login is [Realm.Kinit] returning its error: it runs MIT kinit for
// principal into ccache and so leaves a TGT there, as a user's kinit does.
func (r *Realm) Login(principal, ccache string, extraArgs ...string) error {
	var args, env []string
	if isCollection(ccache) {
		env = []string{"KRB5CCNAME=" + ccache}
	} else {
		args = []string{"-c", ccache}
	}
	args = append(args, extraArgs...)
	args = append(args, r.Principal(principal))
	r.mu.Lock()
	pw, ok := r.passwords[r.Principal(principal)]
	r.mu.Unlock()
	var stdin []byte
	if ok {
		stdin = []byte(pw + "\n")
	}
	_, err := r.runEnv(env, stdin, r.bins["kinit"], args...)
	return err
}

// isCollection reports whether a cache name names a collection rather than
// one cache, as MIT reads it: "DIR:dir" (not "DIR::file"), "KCM:" (not
// "KCM:name") and "KEYRING:anchor:collection" (not with a third part).
func isCollection(name string) bool {
	typ, rest, _ := strings.Cut(name, ":")
	switch typ {
	case "DIR":
		return !strings.HasPrefix(rest, ":")
	case "KCM":
		return rest == ""
	case "KEYRING":
		return strings.Count(rest, ":") < 2
	}
	return false
}

// Klist returns the output of "klist -c ccache" (or of its flags).
func (r *Realm) Klist(args ...string) (string, error) {
	return r.run(nil, r.bins["klist"], args...)
}

// TGSCount counts the service tickets the KDC issued to client for spn
// (both names without realm or with it), from its log.
func (r *Realm) TGSCount(client, spn string) (int, error) {
	re := regexp.MustCompile(`TGS_REQ .*: ISSUE: .* ` + regexp.QuoteMeta(r.Principal(client)) + ` for ` + regexp.QuoteMeta(r.Principal(spn)) + `$`)
	return r.countLog(re)
}

// ASCount counts the initial tickets (AS exchanges) the KDC issued to client.
func (r *Realm) ASCount(client string) (int, error) {
	re := regexp.MustCompile(`AS_REQ .*: ISSUE: .* ` + regexp.QuoteMeta(r.Principal(client)) + ` for krbtgt/`)
	return r.countLog(re)
}

// PreauthRequiredCount counts the AS requests of client the KDC answered
// by asking for pre-authentication (the first round of a login that did
// not pre-authenticate at once), from its log.
func (r *Realm) PreauthRequiredCount(client string) (int, error) {
	re := regexp.MustCompile(`AS_REQ .*: NEEDED_PREAUTH: ` + regexp.QuoteMeta(r.Principal(client)) + ` for krbtgt/`)
	return r.countLog(re)
}

func (r *Realm) countLog(re *regexp.Regexp) (int, error) {
	f, err := os.Open(r.LogPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if re.MatchString(sc.Text()) {
			n++
		}
	}
	return n, sc.Err()
}

// Run runs an MIT client program (kinit, klist, kvno, kdestroy, kswitch)
// with the realm's environment and returns its combined output.
func (r *Realm) Run(program string, args ...string) (string, error) {
	path, err := exec.LookPath(program)
	if err != nil {
		return "", fmt.Errorf("%w: %s not found", ErrMissingBinaries, program)
	}
	return r.run(nil, path, args...)
}
