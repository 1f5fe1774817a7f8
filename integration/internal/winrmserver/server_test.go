package winrmserver

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"PT20S": 20 * time.Second, "PT20.000S": 20 * time.Second, "PT1.5S": 1500 * time.Millisecond,
		"PT1M30S": 90 * time.Second, "P1DT2H": 26 * time.Hour, " PT60S ": time.Minute,
	} {
		if got, ok := parseDuration(in); !ok || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "P", "PT", "20", "PT-5S", "PTS", "PT1e9S", "PT99999999999S"} {
		if _, ok := parseDuration(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestOutputTake: output comes out stdout first within the budget; the
// end of a stream is reported once all of it was taken, and the exit once
// both streams ended.
func TestOutputTake(t *testing.T) {
	t.Parallel()
	o := newOutput()
	o.append(0, []byte("0123456789"))
	o.append(1, []byte("err"))
	p, _ := o.take(8)
	if string(p.data[0]) != "01234567" || len(p.data[1]) != 0 || p.end[0] || p.done {
		t.Fatalf("first portion %+v", p)
	}
	o.mu.Lock()
	o.streams[0].eof, o.streams[1].eof, o.exited, o.exitCode = true, true, true, 3
	o.mu.Unlock()
	p, _ = o.take(100)
	if string(p.data[0]) != "89" || string(p.data[1]) != "err" || !p.end[0] || !p.end[1] || !p.done || p.exitCode != 3 {
		t.Fatalf("second portion %+v", p)
	}
	// Done stays done; ends are not repeated.
	p, _ = o.take(100)
	if !p.done || p.end[0] || p.end[1] {
		t.Fatalf("third portion %+v", p)
	}
	fresh := newOutput()
	if p, wait := fresh.take(100); p != nil || wait == nil {
		t.Fatal("an empty output reported something")
	}
	if p := fresh.receive(context.Background(), nil, 100, 10*time.Millisecond); p != nil {
		t.Fatal("receive on a silent command did not time out")
	}
}

func TestFaultEnvelopesAreWellFormed(t *testing.T) {
	t.Parallel()
	for _, f := range []*fault{faultTimedOut(), faultShellNotFound("<&>"), faultMaxShells(3), faultMaxOperations(4), faultInvalid("%s", "x<y")} {
		var v struct {
			WSManFault struct {
				Code string `xml:"Code,attr"`
			} `xml:"Body>Fault>Detail>WSManFault"`
		}
		if err := xml.Unmarshal(f.envelope("uuid:1", "host&co"), &v); err != nil || v.WSManFault.Code != strconv.FormatUint(uint64(f.code), 10) {
			t.Errorf("%v: %v %q", f, err, v.WSManFault.Code)
		}
	}
	body := receiveBody(`C"1`, &portion{data: [2][]byte{[]byte("out"), nil}, end: [2]bool{true, true}, done: true, exitCode: 2})
	if err := xml.Unmarshal(reply(nsShell+"/ReceiveResponse", "uuid:2", body), new(struct{})); err != nil {
		t.Fatal(err)
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	if got := commandLine("echo", []string{"a b", "c"}); got != "echo a b c" {
		t.Fatalf("%q", got)
	}
}

// TestRequestsWithoutIdentity: without an Authenticator every request must
// come authenticated; GET is 405 before anything else.
func TestRequestsWithoutIdentity(t *testing.T) {
	t.Parallel()
	s, err := New(Config{ShellDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for method, want := range map[string]int{http.MethodPost: http.StatusUnauthorized, http.MethodGet: http.StatusMethodNotAllowed} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(method, "/wsman", strings.NewReader("<x/>")))
		if w.Code != want || w.Header().Get("Server") != "Microsoft-HTTPAPI/2.0" {
			t.Errorf("%s: %d, want %d", method, w.Code, want)
		}
	}
	if _, err := New(Config{MaxEnvelopeSize: 100}); err == nil {
		t.Error("MaxEnvelopeSize 100 accepted")
	}
}

// TestCloseKillsCommands: Close ends a running command and removes the
// shell's directory.
func TestCloseKillsCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := New(Config{ShellDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c, err := startCommand("C", "sleep 100", dir, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	private, err := os.MkdirTemp(dir, "winrm-shell-")
	if err != nil {
		t.Fatal(err)
	}
	s.shells["S"] = &shell{id: "S", dir: private, private: private, commands: map[string]*command{"C": c}}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// terminate killed the group; the ends of the streams and the exit
	// status arrive, in one portion or a few.
	var p *portion
	for range 5 {
		if p = c.out.receive(context.Background(), nil, 100, time.Minute); p == nil || p.done {
			break
		}
	}
	if p == nil || !p.done || p.exitCode != 128+9 {
		t.Fatalf("after Close: %+v", p)
	}
	if _, err := os.Stat(private); !os.IsNotExist(err) {
		t.Fatalf("the shell directory survived: %v", err)
	}
}

// FuzzHandle: whatever an authenticated client sends, the server answers
// 200 or 500 with a well-formed envelope, and never panics.
func FuzzHandle(f *testing.F) {
	s, err := New(Config{ShellDir: f.TempDir(), MaxShellsPerUser: 2, MaxOperationTimeout: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	id := &acceptor.Identity{Principal: "alice@EXAMPLE.TEST", Context: &gss.SecurityContext{}}
	const head = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"` +
		` xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="` + nsShell + `"><s:Header><a:MessageID>uuid:1</a:MessageID>` +
		`<w:ResourceURI>` + resourceURICmd + `</w:ResourceURI><w:OperationTimeout>PT0.1S</w:OperationTimeout>`
	f.Add([]byte(head + `<a:Action>` + nsTransfer + `/Create</a:Action></s:Header><s:Body><rsp:Shell><rsp:IdleTimeOut>PT5S</rsp:IdleTimeOut></rsp:Shell></s:Body></s:Envelope>`))
	f.Add([]byte(head + `<a:Action>` + nsShell + `/Receive</a:Action><w:SelectorSet><w:Selector Name="ShellId">X</w:Selector></w:SelectorSet></s:Header>` +
		`<s:Body><rsp:Receive><rsp:DesiredStream CommandId="Y">stdout stderr</rsp:DesiredStream></rsp:Receive></s:Body></s:Envelope>`))
	f.Add([]byte(head + `<a:Action>` + nsShell + `/Send</a:Action></s:Header><s:Body><rsp:Send><rsp:Stream Name="stdin" CommandId="Y">!!</rsp:Stream></rsp:Send></s:Body></s:Envelope>`))
	f.Add([]byte("<not soap"))
	f.Fuzz(func(t *testing.T, envelope []byte) {
		r := httptest.NewRequest(http.MethodPost, "/wsman", nil)
		status, reply := s.handle(r.Context(), r, id, envelope)
		if status != http.StatusOK && status != http.StatusInternalServerError {
			t.Fatalf("status %d", status)
		}
		if err := xml.Unmarshal(reply, new(struct{})); err != nil {
			t.Fatalf("reply is not XML: %v\n%s", err, reply)
		}
	})
}
