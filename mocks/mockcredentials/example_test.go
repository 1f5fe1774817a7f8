package mockcredentials_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
	"go.uber.org/mock/gomock"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
	"github.com/krbhttp/krbhttp/mocks/mockcredentials"
)

// Fetch is the user code under test: it GETs url and says why when
// Kerberos failed.
func Fetch(ctx context.Context, hc *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return "", fmt.Errorf("fetch %s: not authenticated: %w", url, auth.ResponseError(resp))
	}
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

const realm = "EXAMPLE.TEST"

// testConfig keeps the service principal name hermetic: HTTP/ plus the
// URL's host, whatever the machine's krb5.conf and DNS say.
func testConfig(t *testing.T) *krb5conf.Config {
	t.Helper()
	cfg, err := krb5conf.Parse("[libdefaults]\n default_realm = " + realm +
		"\n dns_canonicalize_hostname = false\n rdns = false\n")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func client(t *testing.T, src credentials.Source) *http.Client {
	t.Helper()
	hc, err := auth.NewClient(auth.WithCredentials(src), auth.WithConfig(testConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

func TestFetchReportsAnUnreachableKDC(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	src := mockcredentials.NewMockSource(gomock.NewController(t))
	src.EXPECT().ServiceTicket(gomock.Any(), "HTTP/127.0.0.1").
		Return(nil, fmt.Errorf("no KDC answered: %w", credentials.ErrKDCUnreachable))

	_, err := Fetch(t.Context(), client(t, src), srv.URL)
	if !errors.Is(err, credentials.ErrKDCUnreachable) {
		t.Fatalf("Fetch = %v, want ErrKDCUnreachable", err)
	}
}

// testTicket makes, without a KDC, a service ticket for client to spn and
// the keytab the service decrypts it with.
func testTicket(t *testing.T, client, spn string) (*ticket.Ticket, *keytab.Keytab) {
	t.Helper()
	return testTicketWithKey(t, client, spn, "service key for tests")
}

// testTicketWithKey is testTicket with the service key derived from
// password: another password stands for another key of the service.
func testTicketWithKey(t *testing.T, client, spn, password string) (*ticket.Ticket, *keytab.Keytab) {
	t.Helper()
	const etype = etypeID.AES256_CTS_HMAC_SHA1_96
	kt := keytab.New()
	if err := kt.AddEntry(spn, realm, password, time.Now(), 1, etype); err != nil {
		t.Fatal(err)
	}
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, client)
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_INST, spn)
	now := time.Now().UTC().Truncate(time.Second)
	flags := types.NewKrbFlags()
	tkt, key, err := messages.NewTicket(cname, realm, sname, realm, flags, kt, etype, 1, now, now, now.Add(time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &ticket.Ticket{
		Ticket: tkt, SessionKey: key, Client: cname, ClientRealm: realm, Flags: flags,
		AuthTime: now, StartTime: now, EndTime: now.Add(time.Hour),
	}, kt
}

// helloServer greets the client a Kerberized request comes from, with the
// service key in kt.
func helloServer(t *testing.T, kt *keytab.Keytab) *httptest.Server {
	t.Helper()
	a, err := acceptor.New(kt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		fmt.Fprint(w, "hello, ", id.Principal)
	})))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchAuthenticatesWithATicketFromTheSource(t *testing.T) {
	ticket, kt := testTicket(t, "alice", "HTTP/127.0.0.1")
	srv := helloServer(t, kt)
	src := mockcredentials.NewMockSource(gomock.NewController(t))
	src.EXPECT().ServiceTicket(gomock.Any(), "HTTP/127.0.0.1").Return(ticket, nil)

	// The handshake runs for real, mutual authentication included (the
	// default): the server's reply verifies with the ticket's session key.
	got, err := Fetch(t.Context(), client(t, src), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got != "hello, alice@"+realm {
		t.Errorf("Fetch = %q", got)
	}
}

// TestFetchRecoversFromARotatedServiceKey: the service's key changed
// since the source got its ticket. The transport tells a Dropper which
// ticket was refused and retries once with the one it hands out next.
func TestFetchRecoversFromARotatedServiceKey(t *testing.T) {
	stale, _ := testTicketWithKey(t, "alice", "HTTP/127.0.0.1", "the key before the rotation")
	fresh, kt := testTicket(t, "alice", "HTTP/127.0.0.1")
	srv := helloServer(t, kt)
	src := mockcredentials.NewMockDropper(gomock.NewController(t))
	gomock.InOrder(
		src.EXPECT().ServiceTicket(gomock.Any(), "HTTP/127.0.0.1").Return(stale, nil),
		src.EXPECT().DropTicket("HTTP/127.0.0.1", stale),
		src.EXPECT().ServiceTicket(gomock.Any(), "HTTP/127.0.0.1").Return(fresh, nil),
	)
	got, err := Fetch(t.Context(), client(t, src), srv.URL)
	if err != nil || got != "hello, alice@"+realm {
		t.Fatalf("Fetch = %q, %v", got, err)
	}
}
