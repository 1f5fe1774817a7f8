package wsman_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/wsman"
	"github.com/krbhttp/krbhttp/wsman/encryption"
	"github.com/krbhttp/krbhttp/wsman/internal/soap"
)

// plainServer serves f over http without authentication; override, when
// it returns true, has answered the request itself.
func plainServer(t *testing.T, f *fakeShell, override func(w http.ResponseWriter, envelope []byte) bool) *wsman.Client {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != encryption.SOAPContentType || r.Method != http.MethodPost {
			t.Errorf("%s with Content-Type %q", r.Method, ct)
		}
		body, _ := io.ReadAll(r.Body)
		if override != nil && override(w, body) {
			return
		}
		status, reply := f.serve(t, body)
		w.Header().Set("Content-Type", encryption.SOAPContentType)
		w.WriteHeader(status)
		_, _ = w.Write(reply)
	}))
	t.Cleanup(ts.Close)
	c, err := wsman.NewClient(ts.URL+"/wsman", wsman.WithTransport(http.DefaultTransport), wsman.WithEncryption(wsman.EncryptNever), wsman.WithMaxEnvelopeSize(8192))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRunOverPlainTransport(t *testing.T) {
	t.Parallel()
	f := &fakeShell{waitForEnd: true, receive: func(n int) (int, string) {
		switch n {
		case 0:
			return http.StatusOK, receiveOutput("hello ", "warning")
		case 1:
			return timedOut(n)
		case 2:
			return http.StatusOK, receiveOutput("world", "")
		}
		return http.StatusOK, receiveDone(3)
	}}
	c := plainServer(t, f, nil)
	if c.Encrypted() {
		t.Fatal("EncryptNever encrypts")
	}
	in := bytes.Repeat([]byte("0123456789"), 3000) // several 8 KiB envelopes
	var stdout, stderr bytes.Buffer
	code, err := c.Run(t.Context(), wsman.RunRequest{Command: "cat", Stdin: bytes.NewReader(in), Stdout: &stdout, Stderr: &stderr})
	if err != nil || code != 3 || stdout.String() != "hello world" || stderr.String() != "warning" {
		t.Fatalf("exit %d, %v, stdout %q, stderr %q", code, err, stdout.String(), stderr.String())
	}
	sends, ends, receives, actions := f.counts()
	if !bytes.Equal(f.stdin, in) || sends < 4 || ends != 1 || receives != 4 {
		t.Fatalf("stdin %d bytes in %d Sends (%d with End), %d Receives", len(f.stdin), sends, ends, receives)
	}
	if actions[0] != soap.ActionCreate || actions[1] != soap.ActionCommand || actions[len(actions)-1] != soap.ActionDelete {
		t.Fatalf("actions %v", actions)
	}
}

func TestSendWithoutDataOrEnd(t *testing.T) {
	t.Parallel()
	f := &fakeShell{}
	c := plainServer(t, f, nil)
	if err := c.Send(t.Context(), "SHELL-1", "CMD-1", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(t.Context(), "SHELL-1", "CMD-1", nil, true); err != nil {
		t.Fatal(err)
	}
	if sends, ends, _, _ := f.counts(); sends != 1 || ends != 1 {
		t.Fatalf("%d Sends, %d with End; want one, with End", sends, ends)
	}
}

// TestErrorsAreTyped: faults, HTTP errors and malformed replies each come
// back as their own type.
func TestErrorsAreTyped(t *testing.T) {
	t.Parallel()
	respond := func(status int, contentType, body string) func(http.ResponseWriter, []byte) bool {
		return func(w http.ResponseWriter, envelope []byte) bool {
			req, _ := soap.Parse(envelope)
			body := strings.ReplaceAll(body, "RELATES", req.MessageID)
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return true
		}
	}
	notFound := string(fakeEnvelope(soap.ActionFault, "RELATES", faultBody(2150858843, "w:InvalidSelectors", "The shell was not found.")))
	cases := []struct {
		name  string
		reply func(http.ResponseWriter, []byte) bool
		check func(error) bool
	}{
		{"fault", respond(500, encryption.SOAPContentType, notFound), func(err error) bool {
			var f *wsman.Fault
			return errors.As(err, &f) && f.Code == wsman.FaultShellNotFound && f.Subcode == "w:InvalidSelectors" &&
				f.Message == "The shell was not found." && f.Machine == "fake" && f.StatusCode == 500 && f.Action == soap.ActionCreate &&
				strings.Contains(err.Error(), "Create fault 2150858843")
		}},
		{"fault in a 200", respond(200, encryption.SOAPContentType, notFound), func(err error) bool { return wsman.IsFault(err, wsman.FaultShellNotFound) }},
		{"413", respond(413, "text/plain", "too large"), func(err error) bool {
			var he *wsman.HTTPError
			return errors.Is(err, wsman.ErrEnvelopeTooLarge) && errors.As(err, &he) && he.StatusCode == 413 && he.Body == "too large"
		}},
		{"401", respond(401, "text/html", "denied"), func(err error) bool {
			var he *wsman.HTTPError
			return errors.As(err, &he) && he.StatusCode == 401 && !errors.Is(err, wsman.ErrEnvelopeTooLarge)
		}},
		{"500 without SOAP", respond(500, "text/html", "<html>proxy error</html>"), func(err error) bool {
			var he *wsman.HTTPError
			return errors.As(err, &he) && he.StatusCode == 500
		}},
		{"200 without SOAP", respond(200, "text/html", "<html>portal</html>"), func(err error) bool {
			var te *wsman.TransportError
			return errors.As(err, &te) && errors.Is(err, soap.ErrMalformed)
		}},
		{"reply to another message", respond(200, encryption.SOAPContentType, string(fakeEnvelope(soap.ResponseAction(soap.ActionCreate), "uuid:other", ""))), func(err error) bool {
			var te *wsman.TransportError
			return errors.As(err, &te) && strings.Contains(err.Error(), "relates to uuid:other")
		}},
		{"no ShellId", respond(200, encryption.SOAPContentType, string(fakeEnvelope(soap.ResponseAction(soap.ActionCreate), "RELATES", ""))), func(err error) bool {
			return errors.Is(err, soap.ErrMalformed)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := plainServer(t, &fakeShell{}, tc.reply)
			_, err := c.CreateShell(t.Context(), wsman.ShellOptions{})
			if err == nil || !tc.check(err) {
				t.Fatalf("got %T %v", err, err)
			}
		})
	}
}

func TestTransportErrorsAreTyped(t *testing.T) {
	t.Parallel()
	c, err := wsman.NewClient("http://127.0.0.1:1/wsman", wsman.WithTransport(http.DefaultTransport), wsman.WithEncryption(wsman.EncryptNever))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateShell(t.Context(), wsman.ShellOptions{})
	var te *wsman.TransportError
	if !errors.As(err, &te) || te.URL != "http://127.0.0.1:1/wsman" || te.Action != soap.ActionCreate {
		t.Fatalf("%T %v", err, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestReceiveTimeoutIsEmptyOutput(t *testing.T) {
	t.Parallel()
	c := plainServer(t, &fakeShell{receive: timedOut}, nil)
	out, err := c.Receive(t.Context(), "SHELL-1", "CMD-1")
	if err != nil || out.Done || len(out.Stdout)+len(out.Stderr) != 0 {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestNewClientValidates(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		url  string
		opts []wsman.Option
	}{
		"not http":              {"ftp://host/wsman", nil},
		"no host":               {"http:///wsman", nil},
		"transport and auth":    {"https://h/wsman", []wsman.Option{wsman.WithTransport(http.DefaultTransport), wsman.WithAuth()}},
		"encryption through rt": {"http://h/wsman", []wsman.Option{wsman.WithTransport(http.DefaultTransport)}},
		"transport and base":    {"https://h/wsman", []wsman.Option{wsman.WithTransport(http.DefaultTransport), wsman.WithBaseTransport(&http.Transport{})}},
		"nil base":              {"http://h/wsman", []wsman.Option{wsman.WithBaseTransport(nil)}},
		"bad mode":              {"http://h/wsman", []wsman.Option{wsman.WithEncryption(7)}},
		"bad scheme":            {"http://h/wsman", []wsman.Option{wsman.WithAuth(auth.WithScheme("NTLM"))}},
		"tiny envelope":         {"http://h/wsman", []wsman.Option{wsman.WithMaxEnvelopeSize(100)}},
		"short timeout":         {"http://h/wsman", []wsman.Option{wsman.WithOperationTimeout(1)}},
		"empty locale":          {"http://h/wsman", []wsman.Option{wsman.WithLocale("")}},
		"nil transport":         {"http://h/wsman", []wsman.Option{wsman.WithTransport(nil)}},
	} {
		if _, err := wsman.NewClient(c.url, c.opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The default: the client's own Kerberos transport, which also sets
	// encrypted sessions up.
	c, err := wsman.NewClient("http://h/wsman")
	if err != nil || !c.Encrypted() {
		t.Fatalf("default client: %v, encrypted %v", err, c != nil && c.Encrypted())
	}
	if c, err := wsman.NewClient("https://h/wsman"); err != nil || c.Encrypted() {
		t.Fatalf("default client over https: %v", err)
	}
}

func TestParseEncryption(t *testing.T) {
	t.Parallel()
	for _, m := range []wsman.Encryption{wsman.EncryptAuto, wsman.EncryptAlways, wsman.EncryptNever} {
		if got, err := wsman.ParseEncryption(strings.ToUpper(m.String())); err != nil || got != m {
			t.Errorf("%v: %v %v", m, got, err)
		}
	}
	if _, err := wsman.ParseEncryption("sometimes"); err == nil {
		t.Error("accepted sometimes")
	}
}
