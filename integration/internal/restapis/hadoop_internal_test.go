package restapis

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestVLongRoundTrip(t *testing.T) {
	t.Parallel()
	// Hadoop's encoding: one byte from -112 to 127, else a length byte
	// and big-endian magnitude (one's complement for negatives).
	for n, want := range map[int64][]byte{
		0: {0}, 127: {127}, -112: {0x90}, 128: {0x8f, 0x80}, -113: {0x87, 0x70},
		1700000000000: {0x8a, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00},
	} {
		var b bytes.Buffer
		writeVLong(&b, n)
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("writeVLong(%d) = % x, want % x", n, b.Bytes(), want)
		}
		got, err := readVLong(bytes.NewReader(b.Bytes()))
		if err != nil || got != n {
			t.Errorf("readVLong(% x) = %d, %v; want %d", b.Bytes(), got, err, n)
		}
	}
}

// clock is a settable time.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestSecretManagerLifecycle(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	m := newSecretManager("HDFS_DELEGATION_TOKEN", time.Hour, 3*time.Hour, clk.Now)
	tok := m.create("alice", "yarn", "", "SWEBHDFS delegation", "127.0.0.1:9871")
	if strings.ContainsAny(tok, "+/=") {
		t.Errorf("token %q is not URL-safe base64 without padding", tok)
	}
	wire, id, err := m.parse(tok)
	if err != nil || id.owner != "alice" || id.renewer != "yarn" || wire.kind != "SWEBHDFS delegation" || wire.service != "127.0.0.1:9871" {
		t.Fatalf("parse: %+v %+v %v", wire, id, err)
	}
	if _, err := m.verify(tok); err != nil {
		t.Fatal(err)
	}
	// Renewal is the renewer's, and extends by the interval up to the
	// maximum lifetime.
	var ac *accessControl
	if _, err := m.renew(tok, "alice"); !errors.As(err, &ac) || !strings.Contains(err.Error(), "with non-matching renewer yarn") {
		t.Errorf("renew by the owner: %v", err)
	}
	clk.now = clk.now.Add(50 * time.Minute)
	expiry, err := m.renew(tok, "yarn")
	if err != nil || expiry != clk.now.Add(time.Hour).UnixMilli() {
		t.Errorf("renew: %d, %v", expiry, err)
	}
	clk.now = clk.now.Add(61 * time.Minute)
	var it *invalidToken
	if _, err := m.verify(tok); !errors.As(err, &it) || !strings.Contains(err.Error(), "is expired") {
		t.Errorf("verify after the renew date: %v", err)
	}
	// A forged password, an unknown token, a cancelled token.
	forged := (&wireToken{identifier: wire.identifier, password: bytes.Repeat([]byte{1}, 20), kind: wire.kind}).encode()
	tok2 := m.create("alice", "alice", "", "k", "s")
	if _, err := m.verify(forged); !errors.As(err, &it) {
		t.Errorf("verify of a forged token: %v", err)
	}
	if err := m.cancel(tok2, "mallory"); !errors.As(err, &ac) {
		t.Errorf("cancel by a stranger: %v", err)
	}
	if err := m.cancel(tok2, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.verify(tok2); !errors.As(err, &it) || !strings.Contains(err.Error(), "can't be found in cache") {
		t.Errorf("verify after cancel: %v", err)
	}
	other := newSecretManager("HDFS_DELEGATION_TOKEN", 0, 0, nil)
	if _, err := other.verify(m.create("alice", "alice", "", "k", "s")); !errors.As(err, &it) {
		t.Errorf("another namenode's token: %v", err)
	}
	if _, err := m.verify(""); !errors.Is(err, errNoToken) {
		t.Errorf("verify of nothing: %v", err)
	}
}

func FuzzDecodeToken(f *testing.F) {
	m := newSecretManager("HDFS_DELEGATION_TOKEN", 0, 0, nil)
	f.Add(m.create("alice", "alice", "", "WEBHDFS delegation", "127.0.0.1:9870"))
	f.Add("")
	f.Add("JQAIaG9y")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		// Malformed tokens are errors, never panics or huge allocations.
		if wire, err := decodeToken(s); err == nil {
			_, _ = unmarshalIdentifier("HDFS_DELEGATION_TOKEN", wire.identifier)
		}
		_, _ = m.verify(s)
	})
}

func TestHadoopAuthCookie(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now()}
	a, err := newHadoopAuth(nil, clk.Now, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	h := a.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := HadoopUserFromContext(r.Context())
		users = append(users, u.Name+"/"+u.Via)
	}))
	do := func(query, cookie string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/x?"+query, nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	first := do("user.name=alice", "")
	set := first.Result().Cookies()
	if len(set) != 1 || set[0].Name != AuthCookie || !strings.HasPrefix(set[0].Value, "u=alice&p=alice&t=simple&e=") || !set[0].HttpOnly || !set[0].Quoted {
		t.Fatalf("Set-Cookie %v", first.Header().Values("Set-Cookie"))
	}
	cookie := set[0].String()
	do("", cookie)
	// Tampered, unsigned and expired cookies are ignored, with the reason
	// the filter would give in a 401; security being off, the request
	// then passes anonymously.
	reason := func(c string) string {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", c)
		u, err := a.fromCookie(r)
		if u != nil || err == nil {
			t.Fatalf("cookie %q accepted", c)
		}
		do("", c)
		return err.Error()
	}
	if got := reason(strings.Replace(cookie, "u=alice", "u=admin", 1)); !strings.HasSuffix(got, "Invalid signature") {
		t.Errorf("tampered: %s", got)
	}
	if got := reason(AuthCookie + "=u=alice&p=alice&t=simple&e=-1"); !strings.Contains(got, "Invalid signed text") {
		t.Errorf("unsigned: %s", got)
	}
	kerberos := &hadoopAuth{secret: a.secret, now: a.now, validity: a.validity, acceptor: nil}
	typed := (&http.Cookie{Name: AuthCookie, Value: strings.Replace(kerberos.sign(&HadoopUser{Name: "bob", Principal: "bob"}), "t=simple", "t=kerberos", 1)}).String()
	if got := reason(typed); !strings.HasSuffix(got, "Invalid signature") {
		t.Errorf("retyped: %s", got)
	}
	clk.now = clk.now.Add(11 * time.Hour)
	if got := reason(cookie); got != "AuthenticationToken expired" {
		t.Errorf("expired: %s", got)
	}
	if got := strings.Join(users, ","); got != "alice/simple,alice/cookie,/simple,/simple,/simple,/simple" {
		t.Errorf("users %s", got)
	}
	if s := a.counts.stats(); s.Cookie != 1 {
		t.Errorf("stats %+v, want one cookie login", s)
	}
	if _, err := a.fromCookie(httptest.NewRequest(http.MethodGet, "/", nil)); err != nil {
		t.Errorf("no cookie: %v", err)
	}
}

func FuzzHadoopAuthCookie(f *testing.F) {
	a, err := newHadoopAuth(nil, nil, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(a.sign(&HadoopUser{Name: "alice", Principal: "alice@R"}))
	f.Add("u=alice&p=alice&t=simple&e=1&s=")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: AuthCookie, Value: strings.Map(func(c rune) rune {
			if c < 0x21 || c > 0x7e || c == '"' || c == ';' || c == '\\' || c == ',' {
				return -1
			}
			return c
		}, v)})
		if u, err := a.fromCookie(r); u != nil && err != nil {
			t.Fatal("both a user and an error")
		}
	})
}
