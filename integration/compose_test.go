package integration

// Tests of the lab that docker-compose.yaml (or integration/lab/lab.sh on a
// host) brings up: a KDC, a Redis server and the IIS-like server's two
// replicas in their own processes, reached by their real names or through
// published ports, not servers this binary starts. They run only when
// KRBHTTP_COMPOSE=1; scripts/compose-test.sh sets it in the client
// container and on the host, with KRBHTTP_LAB_KDC, _URL, _TLS_URL, _URL2
// (the second replica), _HOST (hostname override), _CA, _REALM, _KDC_STOP,
// _KDC_START, _REDIS_STOP and _REDIS_START where the defaults (the view
// from the compose network) do not fit; integration/lab/lab.sh env prints
// them for a lab on the host.
//
// They are gated by an environment variable rather than a build tag so
// that the ordinary run still compiles, vets and staticchecks them; that
// run reports them skipped, naming the variable. Once the variable is set a
// lab that cannot be reached fails them: it never skips.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/iis"
)

// The lab's user, as integration/lab/realm.sh creates it.
const (
	labUser         = "labuser"
	labUserPassword = "labuser-secret-1"
)

// composeLab describes the lab under test, from the environment. Defaults
// are those of the compose client container.
type composeLab struct {
	realm    string
	kdc      string // host:port of the KDC
	url      string // the IIS-like server over HTTP
	tlsURL   string // and over HTTPS
	url2     string // its second replica, over HTTP, sharing the replay cache on Redis
	host     string // hostname override: the server's name when url is an address
	caFile   string // the CA of the server's throwaway certificate
	kdcStop  string // shell commands that stop and start the KDC
	kdcStart string
	// Shell commands that stop and start the Redis server of the replay
	// cache.
	redisStop, redisStart string
	conf                  *krb5conf.Config

	partnerRealm string // the realm trusting realm both ways
	partnerURL   string // the IIS-like server of HTTP/<partnerName>@partnerRealm
	partnerHost  string // hostname override for partnerURL, when an address
	partnerName  string // the partner server's name (web.partner.test)
	kdcProxyURL  string // python3-kdcproxy in front of the lab's KDC
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newComposeLab(t *testing.T) *composeLab {
	t.Helper()
	if os.Getenv("KRBHTTP_COMPOSE") != "1" {
		t.Skip("compose lab tests: set KRBHTTP_COMPOSE=1 with the lab up (scripts/compose-test.sh does)")
	}
	caDefault := ""
	if dir := os.Getenv("KRBHTTP_LAB_DIR"); dir != "" {
		caDefault = filepath.Join(dir, "tls", "ca.pem")
	}
	lab := &composeLab{
		realm:      getenv("KRBHTTP_LAB_REALM", "KRBHTTP.TEST"),
		kdc:        getenv("KRBHTTP_LAB_KDC", "kdc.example.test:88"),
		url:        getenv("KRBHTTP_LAB_URL", "http://iis.example.test"),
		tlsURL:     getenv("KRBHTTP_LAB_TLS_URL", "https://iis.example.test"),
		url2:       getenv("KRBHTTP_LAB_URL2", "http://iis2.example.test"),
		host:       os.Getenv("KRBHTTP_LAB_HOST"),
		caFile:     getenv("KRBHTTP_LAB_CA", caDefault),
		kdcStop:    getenv("KRBHTTP_LAB_KDC_STOP", "docker-compose stop kdc"),
		kdcStart:   getenv("KRBHTTP_LAB_KDC_START", "docker-compose start kdc"),
		redisStop:  getenv("KRBHTTP_LAB_REDIS_STOP", "docker-compose stop redis"),
		redisStart: getenv("KRBHTTP_LAB_REDIS_START", "docker-compose start redis"),

		partnerRealm: getenv("KRBHTTP_LAB_PARTNER_REALM", partnerRealm),
		partnerURL:   getenv("KRBHTTP_LAB_PARTNER_URL", "http://web.partner.test:8081"),
		partnerHost:  os.Getenv("KRBHTTP_LAB_PARTNER_HOST"),
		kdcProxyURL:  getenv("KRBHTTP_LAB_KDCPROXY_URL", "https://iis.example.test:8444/KdcProxy"),
	}
	lab.partnerName = lab.partnerHost
	if lab.partnerName == "" {
		lab.partnerName = strings.TrimSuffix(strings.TrimPrefix(lab.partnerURL, "http://"), ":8081")
	}
	// A krb5.conf of our own: it names the KDC as this side of the lab
	// reaches it (a published port from the host), and speaks TCP only, so
	// that a stopped KDC is a refused connection at once rather than UDP
	// timeouts.
	conf := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	udp_preference_limit = 1

[realms]
	%[1]s = {
		kdc = %[2]s
	}
	%[3]s = {
		kdc = %[2]s
	}

[domain_realm]
	.example.test = %[1]s
	example.test = %[1]s
	%[4]s = %[3]s
`, lab.realm, lab.kdc, lab.partnerRealm, lab.partnerName)
	path := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if lab.conf, err = krb5conf.LoadFiles(path); err != nil {
		t.Fatal(err)
	}
	return lab
}

// client returns a new client logging in as the lab user with a password
// (its own TGT and tickets: nothing is shared with other clients), with
// mutual authentication required (the default).
func (l *composeLab) client(t *testing.T, extra ...auth.Option) *http.Client {
	t.Helper()
	return &http.Client{Transport: l.transport(t, l.base(t), extra...), Timeout: 30 * time.Second}
}

// base returns the HTTP/1.1 transport under the lab's clients, trusting
// the lab's CA.
func (l *composeLab) base(t *testing.T) *http.Transport {
	t.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	// IIS authenticates HTTP/1.1 only.
	var h1 http.Protocols
	h1.SetHTTP1(true)
	base.Protocols = &h1
	base.ForceAttemptHTTP2 = false
	base.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if l.caFile != "" {
		pem, err := os.ReadFile(l.caFile)
		if err != nil {
			t.Fatal(err)
		}
		base.TLSClientConfig.RootCAs = x509.NewCertPool()
		if !base.TLSClientConfig.RootCAs.AppendCertsFromPEM(pem) {
			t.Fatalf("%s: no certificate", l.caFile)
		}
	}
	t.Cleanup(base.CloseIdleConnections)
	return base
}

// transport returns the lab user's Negotiate transport over base.
func (l *composeLab) transport(t *testing.T, base http.RoundTripper, extra ...auth.Option) *auth.Transport {
	t.Helper()
	opts := []auth.Option{auth.WithConfig(l.conf), auth.WithPrincipal(labUser + "@" + l.realm), auth.WithPassword(labUserPassword)}
	if l.host != "" {
		opts = append(opts, auth.WithHostnameOverride(l.host))
	}
	tr, err := auth.NewTransport(base, append(opts, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// acceptedToken makes one request to url with a fresh token sent up front
// and returns that token's Authorization value, which the server accepted.
// The replica is reached under the service's name (HTTP/iis.example.test),
// as behind a load balancer.
func (l *composeLab) acceptedToken(t *testing.T, url string) string {
	t.Helper()
	spy := &authzSpy{base: l.base(t)}
	extra := []auth.Option{auth.WithPreemptive(auth.PreemptiveAlways)}
	if url == l.url2 && l.host == "" {
		extra = append(extra, auth.WithHostnameOverride("iis.example.test"))
	}
	resp, _ := whoami(t, &http.Client{Transport: l.transport(t, spy, extra...), Timeout: 30 * time.Second}, url)
	if resp.StatusCode != http.StatusOK || len(spy.sent) != 1 {
		t.Fatalf("GET %s/whoami: status %d after %d tokens, reason %v", url, resp.StatusCode, len(spy.sent), auth.ResponseError(resp))
	}
	return spy.sent[0]
}

// TestComposeWhoAmI calls the lab's IIS-like server through the transport,
// by its real name inside the compose network (HTTP/iis.example.test) or
// through a published port with that name as hostname override, over
// HTTP and HTTPS, and checks what the server saw.
func TestComposeWhoAmI(t *testing.T) {
	lab := newComposeLab(t)
	for _, url := range []string{lab.url, lab.tlsURL} {
		t.Run(strings.SplitN(url, ":", 2)[0], func(t *testing.T) {
			c := lab.client(t)
			resp, saw := whoami(t, c, url)
			// Under MutualRequired a 200 only comes back when the server's
			// AP-REP verified; check it was there, as IIS sends it.
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Negotiate ") {
				t.Fatalf("status %d, headers %v, reason %v", resp.StatusCode, resp.Header, auth.ResponseError(resp))
			}
			t.Logf("%s/whoami: %s %s, Server %q, Persistent-Auth %q; the server saw %+v",
				url, resp.Proto, resp.Status, resp.Header.Get("Server"), resp.Header.Get("Persistent-Auth"), saw)
			wantHTTPS := strings.HasPrefix(url, "https:")
			if saw.Principal != labUser+"@"+lab.realm || saw.ChannelBound != wantHTTPS || resp.Header.Get("Server") != iis.ServerHeader {
				t.Fatalf("the server saw %+v (Server %q); want %s@%s, channel bound %v", saw, resp.Header.Get("Server"), labUser, lab.realm, wantHTTPS)
			}
			// The IIS default: the connection is now authenticated, the
			// next request on it needs no token.
			resp, saw = whoami(t, c, url)
			if resp.StatusCode != http.StatusOK || !saw.ConnectionAuth {
				t.Fatalf("second request: status %d, the server saw %+v; want a connection-authenticated 200", resp.StatusCode, saw)
			}
		})
	}
}

// TestComposeKDCOutage stops the lab's KDC mid-run: a client that has no
// ticket yet gets the server's 401 with a KDC-unreachable reason, a client
// holding its service ticket keeps working, and once the KDC is back the
// failed client succeeds again as soon as the backoff after its failed
// login is over.
func TestComposeKDCOutage(t *testing.T) {
	lab := newComposeLab(t)
	early := lab.client(t)
	if resp, saw := whoami(t, early, lab.url); resp.StatusCode != http.StatusOK {
		t.Fatalf("before the outage: status %d, reason %v", resp.StatusCode, auth.ResponseError(resp))
	} else {
		t.Logf("before the outage: the server saw %s", saw.Principal)
	}

	shell(t, lab.kdcStop)
	restarted := false
	t.Cleanup(func() {
		// Leave the lab as found, even when the test failed half-way.
		if !restarted {
			shell(t, lab.kdcStart)
		}
	})

	fresh := lab.client(t)
	resp, _ := whoami(t, fresh, lab.url)
	reason := auth.ResponseError(resp)
	if resp.StatusCode != http.StatusUnauthorized || !errors.Is(reason, credentials.ErrKDCUnreachable) {
		t.Fatalf("KDC stopped: status %d, reason %v; want 401 and ErrKDCUnreachable", resp.StatusCode, reason)
	}
	t.Logf("KDC stopped: %d, reason: %v", resp.StatusCode, reason)

	// A new connection needs a new AP-REQ, which the cached service ticket
	// makes without the KDC.
	early.CloseIdleConnections()
	if resp, _ := whoami(t, early, lab.url); resp.StatusCode != http.StatusOK {
		t.Fatalf("KDC stopped, service ticket held: status %d, reason %v; want 200", resp.StatusCode, auth.ResponseError(resp))
	}

	shell(t, lab.kdcStart)
	restarted = true
	lab.waitAuthenticates(t, "KDC restarted")
	// The failed client does not ask the KDC again before the backoff
	// its failure started (one second after one failure) is over: when
	// its error says so, try again then, a bounded number of times.
	resp, saw := whoami(t, fresh, lab.url)
	for range 5 {
		var backoff *credentials.BackoffError
		if resp.StatusCode == http.StatusOK || !errors.As(auth.ResponseError(resp), &backoff) {
			break
		}
		t.Logf("KDC back: the failed client waits out its backoff: %v", auth.ResponseError(resp))
		time.Sleep(min(time.Until(backoff.Until), 2*time.Second))
		resp, saw = whoami(t, fresh, lab.url)
	}
	if resp.StatusCode != http.StatusOK || saw.Principal != labUser+"@"+lab.realm {
		t.Fatalf("KDC back: status %d, reason %v; want the failed client to succeed now", resp.StatusCode, auth.ResponseError(resp))
	}
	t.Logf("KDC back: the failed client's next request: %s, the server saw %s", resp.Status, saw.Principal)
}

// waitAuthenticates waits, bounded, until new clients authenticate to the
// server again: a service needs a moment after its container starts.
func (l *composeLab) waitAuthenticates(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, _ := whoami(t, l.client(t), l.url)
		if resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %d after 60s, reason %v", what, resp.StatusCode, auth.ResponseError(resp))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// shell runs a lab command (docker-compose stop kdc, or kdc.sh on a host),
// bounded to two minutes.
func shell(t *testing.T, command string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", "-c", command).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", command, err, out)
	}
	t.Logf("%s: done", command)
}

// TestComposeCrossRealm: the lab user of the lab's realm gets 200 from the
// partner realm's IIS-like server (HTTP/web.partner.test@PARTNER.TEST),
// through the two-way trust.
func TestComposeCrossRealm(t *testing.T) {
	lab := newComposeLab(t)
	c := lab.client(t, auth.WithHostnameOverride(lab.partnerName))
	resp, saw := whoami(t, c, lab.partnerURL)
	if resp.StatusCode != http.StatusOK || saw.Principal != labUser+"@"+lab.realm {
		t.Fatalf("status %d, the server saw %+v, reason %v", resp.StatusCode, saw, auth.ResponseError(resp))
	}
	t.Logf("%s/whoami (HTTP/%s@%s): %s, the server saw %s", lab.partnerURL, lab.partnerName, lab.partnerRealm, resp.Status, saw.Principal)
}

// TestComposeKDCProxy: with a krb5.conf whose only KDC is a KDC proxy,
// python3-kdcproxy's or iislike's (/KdcProxy on its HTTPS port), the lab
// user logs in and gets 200.
func TestComposeKDCProxy(t *testing.T) {
	lab := newComposeLab(t)
	for name, url := range map[string]string{"python3-kdcproxy": lab.kdcProxyURL, "iislike": lab.tlsURL + "/KdcProxy"} {
		t.Run(name, func(t *testing.T) {
			text := fmt.Sprintf("[libdefaults]\n\tdefault_realm = %[1]s\n\tdns_canonicalize_hostname = false\n\trdns = false\n"+
				"[realms]\n\t%[1]s = {\n\t\tkdc = %[2]s\n\t\thttp_anchors = FILE:%[3]s\n\t}\n"+
				"[domain_realm]\n\t.example.test = %[1]s\n", lab.realm, url, lab.caFile)
			path := filepath.Join(t.TempDir(), "krb5.conf")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			conf, err := krb5conf.LoadFiles(path)
			if err != nil {
				t.Fatal(err)
			}
			resp, saw := whoami(t, lab.client(t, auth.WithConfig(conf)), lab.url)
			if resp.StatusCode != http.StatusOK || saw.Principal != labUser+"@"+lab.realm {
				t.Fatalf("through %s: status %d, reason %v", url, resp.StatusCode, auth.ResponseError(resp))
			}
			t.Logf("KDC only through %s: %s, the server saw %s", url, resp.Status, saw.Principal)
		})
	}
}

// TestComposeReplayAcrossReplicas: the lab's two IIS-like replicas share
// their replay cache on the lab's Redis: a token accepted by one is refused
// by the other (and by itself), in both directions.
func TestComposeReplayAcrossReplicas(t *testing.T) {
	lab := newComposeLab(t)
	for _, dir := range [][2]string{{lab.url, lab.url2}, {lab.url2, lab.url}} {
		tok := lab.acceptedToken(t, dir[0])
		for _, url := range []string{dir[1], dir[0]} {
			if status := rawGet(t, url, tok); status != http.StatusUnauthorized {
				t.Fatalf("token accepted by %s, replayed to %s: status %d, want 401", dir[0], url, status)
			}
		}
		t.Logf("token accepted by %s: refused by %s and by itself", dir[0], dir[1])
	}
}

// TestComposeRedisOutage stops the lab's Redis mid-run: new
// authentications get 503 (the replicas fail closed), and once Redis is
// back they succeed again without restarting anything, while a token
// accepted before the outage is still refused by both replicas (Redis's
// append-only file kept it).
func TestComposeRedisOutage(t *testing.T) {
	lab := newComposeLab(t)
	before := lab.acceptedToken(t, lab.url)

	shell(t, lab.redisStop)
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			shell(t, lab.redisStart)
		}
	})
	resp, _ := whoami(t, lab.client(t), lab.url)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Redis stopped: status %d, reason %v; want 503 (fail closed)", resp.StatusCode, auth.ResponseError(resp))
	}
	t.Logf("Redis stopped: %s", resp.Status)

	shell(t, lab.redisStart)
	restarted = true
	lab.waitAuthenticates(t, "Redis restarted")
	for _, url := range []string{lab.url, lab.url2} {
		if status := rawGet(t, url, before); status != http.StatusUnauthorized {
			t.Fatalf("token accepted before the outage, replayed to %s after it: status %d, want 401", url, status)
		}
	}
	t.Log("Redis back: new authentications succeed, the token from before the outage is still refused by both replicas")
}
