package wsman_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/krbhttp/krbhttp/wsman"
)

// scripted is a ShellClient without a server: Receive hands out outputs
// in order, then empty ones as a server whose operation timeout runs out
// would, and every call is recorded.
type scripted struct {
	outputs   []*wsman.Output
	sendErr   error
	deleteErr error

	mu    sync.Mutex
	calls []string
	stdin []byte
}

func (s *scripted) record(call string) {
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
}

func (s *scripted) recorded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *scripted) CreateShell(context.Context, wsman.ShellOptions) (string, error) {
	s.record("create")
	return "S", nil
}

func (s *scripted) StartCommand(context.Context, string, string, ...string) (string, error) {
	s.record("command")
	return "C", nil
}

func (s *scripted) Send(_ context.Context, _, _ string, data []byte, end bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stdin = append(s.stdin, data...)
	if end {
		s.calls = append(s.calls, "end")
	}
	return s.sendErr
}

func (s *scripted) Receive(ctx context.Context, _, _ string) (*wsman.Output, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.outputs) > 0 {
		out := s.outputs[0]
		s.outputs = s.outputs[1:]
		s.mu.Unlock()
		return out, nil
	}
	s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	runtime.Gosched()
	return &wsman.Output{}, nil
}

func (s *scripted) Signal(_ context.Context, _, _ string, sig wsman.Signal) error {
	s.record("signal " + string(sig)[strings.LastIndexByte(string(sig), '/')+1:])
	return nil
}

func (s *scripted) DeleteShell(context.Context, string) error {
	s.record("delete")
	return s.deleteErr
}

var _ wsman.ShellClient = (*scripted)(nil)

func done(code int) *wsman.Output { return &wsman.Output{Done: true, ExitCode: code} }

func TestRunCancelTerminatesAndDeletes(t *testing.T) {
	t.Parallel()
	s := &scripted{outputs: []*wsman.Output{{Stdout: []byte("started")}}}
	ctx, cancel := context.WithCancel(t.Context())
	var out bytes.Buffer
	w := writerFunc(func(b []byte) (int, error) {
		out.Write(b)
		cancel() // cancel once output flows; the next Receive sees it
		return len(b), nil
	})
	_, err := wsman.Run(ctx, s, wsman.RunRequest{Command: "sleep", Stdout: w})
	if !errors.Is(err, context.Canceled) || out.String() != "started" {
		t.Fatalf("%v, output %q", err, out.String())
	}
	calls := s.recorded()
	if !slices.Contains(calls, "signal terminate") || calls[len(calls)-1] != "delete" {
		t.Fatalf("calls %v: want terminate, then delete", calls)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

func TestStreamFailuresTerminate(t *testing.T) {
	t.Parallel()
	broken := errors.New("broken")
	cases := map[string]struct {
		s      *scripted
		stdin  io.Reader
		stdout io.Writer
	}{
		"stdout write": {&scripted{outputs: []*wsman.Output{{Stdout: []byte("x")}}}, nil, writerFunc(func([]byte) (int, error) { return 0, broken })},
		"stdin read":   {&scripted{outputs: []*wsman.Output{{}, {}, {}}}, readerFunc(func([]byte) (int, error) { return 0, broken }), nil},
		// A refused Send while the command waits silently is an error.
		"send refused": {&scripted{sendErr: broken, outputs: []*wsman.Output{{}, {}, {}}}, strings.NewReader("data"), nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := wsman.Stream(t.Context(), c.s, "S", "C", c.stdin, c.stdout, nil)
			if !errors.Is(err, broken) || !slices.Contains(c.s.recorded(), "signal terminate") {
				t.Fatalf("%v; calls %v", err, c.s.recorded())
			}
		})
	}
}

// TestStreamSendErrorIgnoredWhenDone: a command that exits without
// reading its stdin refuses it; that is no failure.
func TestStreamSendErrorIgnoredWhenDone(t *testing.T) {
	t.Parallel()
	s := &scripted{sendErr: errors.New("the pipe has been ended"), outputs: []*wsman.Output{{Stdout: []byte("ok")}, done(0)}}
	var out bytes.Buffer
	code, err := wsman.Stream(t.Context(), s, "S", "C", strings.NewReader("unread"), &out, nil)
	if err != nil || code != 0 || out.String() != "ok" {
		t.Fatalf("exit %d, %v, output %q", code, err, out.String())
	}
}

// TestStreamDoesNotWaitForBlockedStdin: a terminal that never delivers
// does not hold up a command that has finished.
func TestStreamDoesNotWaitForBlockedStdin(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	defer pw.Close()
	s := &scripted{outputs: []*wsman.Output{done(4)}}
	if code, err := wsman.Stream(t.Context(), s, "S", "C", pr, nil, nil); err != nil || code != 4 {
		t.Fatalf("exit %d, %v", code, err)
	}
}

func TestRunReportsDeleteFailure(t *testing.T) {
	t.Parallel()
	s := &scripted{outputs: []*wsman.Output{done(2)}, deleteErr: errors.New("gone")}
	code, err := wsman.Run(t.Context(), s, wsman.RunRequest{Command: "x"})
	if code != 2 || err == nil || !strings.Contains(err.Error(), "deleting the shell: gone") {
		t.Fatalf("exit %d, %v", code, err)
	}
	calls := s.recorded()
	if !slices.Equal(calls, []string{"create", "command", "end", "delete"}) {
		t.Fatalf("calls %v", calls)
	}
}

func TestEncodePowerShell(t *testing.T) {
	t.Parallel()
	script := "Write-Output 'héllo 😀'"
	req := wsman.PowerShell(script)
	if req.Command != "powershell" || len(req.Args) != 4 || req.Args[2] != "-EncodedCommand" {
		t.Fatalf("%+v", req)
	}
	b, err := base64.StdEncoding.DecodeString(req.Args[3])
	if err != nil || len(b)%2 != 0 {
		t.Fatal(err)
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	if got := string(utf16.Decode(units)); got != script {
		t.Fatalf("decoded %q", got)
	}
}
