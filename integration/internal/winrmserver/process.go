package winrmserver

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/krbhttp/krbhttp/integration/internal/procgroup"
)

// streamNames index the two output streams.
var streamNames = [2]string{"stdout", "stderr"}

const (
	// maxQueued bounds the output of one stream waiting to be received; a
	// command writing more blocks until the client catches up.
	maxQueued = 1 << 20
	// pipeGrace is how long after a command exits its output pipes may
	// stay open (held by a background child) before they are closed.
	pipeGrace = time.Second
)

// command is one running (or finished) process with its pipes.
type command struct {
	id   string
	proc *exec.Cmd
	out  *output

	stdinMu sync.Mutex
	stdin   *os.File // guarded by stdinMu; nil once closed
}

// output collects a command's stdout and stderr until Receive takes them.
type output struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever anything changes
	streams  [2]streamBuf
	exited   bool
	exitCode int
	closed   bool // the command was terminated: writers stop waiting
	appended int  // appends so far, to tell a stalled pipe
}

// full reports whether a stream waits for the client; o.mu must be held.
func (o *output) full() bool {
	return len(o.streams[0].data) >= maxQueued || len(o.streams[1].data) >= maxQueued
}

type streamBuf struct {
	data    []byte
	eof     bool
	endSent bool
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

// notify wakes every waiter; o.mu must be held.
func (o *output) notify() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// startCommand runs line with /bin/sh -c in dir, in a process group of its
// own, with pipes for the three streams.
func startCommand(id, line, dir string, env []string) (*command, error) {
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll(stdinR, stdinW)
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(stdinR, stdinW, outR, outW)
		return nil, err
	}
	proc := exec.Command("/bin/sh", "-c", line)
	proc.Dir, proc.Env = dir, env
	proc.Stdin, proc.Stdout, proc.Stderr = stdinR, outW, errW
	procgroup.Set(proc)
	err = proc.Start()
	// The child has its ends now (or failed to start); ours are the others.
	closeAll(stdinR, outW, errW)
	if err != nil {
		closeAll(stdinW, outR, errR)
		return nil, err
	}
	c := &command{id: id, proc: proc, out: newOutput(), stdin: stdinW}
	var pumps sync.WaitGroup
	for i, r := range []*os.File{outR, errR} {
		pumps.Add(1)
		go func() {
			defer pumps.Done()
			c.out.pump(i, r)
		}()
	}
	go c.wait(outR, errR, &pumps)
	return c, nil
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

// wait records the exit status. Pipes a background child keeps open
// after the exit are closed once nothing has come through them for
// pipeGrace, so the command can complete; pipes that are only waiting for
// the client to take output are left alone.
func (c *command) wait(outR, errR *os.File, pumps *sync.WaitGroup) {
	err := c.proc.Wait()
	code := 0
	if st := c.proc.ProcessState; st != nil {
		code = st.ExitCode()
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		code = -1
	}
	drained := make(chan struct{})
	go func() {
		pumps.Wait()
		close(drained)
	}()
	tick := time.NewTicker(pipeGrace)
	defer tick.Stop()
	last := -1
	// Ends when the pumps end: at end of file, when the pipes are closed
	// here, or when the command is terminated.
	for waiting := true; waiting; {
		select {
		case <-drained:
			waiting = false
		case <-tick.C:
			c.out.mu.Lock()
			stalled := c.out.appended == last && !c.out.full()
			last = c.out.appended
			c.out.mu.Unlock()
			if stalled {
				closeAll(outR, errR)
			}
		}
	}
	c.out.mu.Lock()
	c.out.exited, c.out.exitCode = true, code
	c.out.notify()
	c.out.mu.Unlock()
}

// pump copies one pipe into its stream buffer, waiting while the buffer is
// full. It ends at end of file, on a read error, or when the command is
// terminated.
func (o *output) pump(i int, r *os.File) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 && !o.append(i, buf[:n]) {
			return
		}
		if err != nil {
			o.mu.Lock()
			o.streams[i].eof = true
			o.notify()
			o.mu.Unlock()
			return
		}
	}
}

// append adds b to stream i, waiting while the stream is full; false when
// the command was terminated meanwhile.
func (o *output) append(i int, b []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.streams[i].data) >= maxQueued {
		if o.closed {
			return false
		}
		ch := o.changed
		o.mu.Unlock()
		<-ch
		o.mu.Lock()
	}
	o.streams[i].data = append(o.streams[i].data, b...)
	o.appended++
	o.notify()
	return true
}

// portion is what one ReceiveResponse carries.
type portion struct {
	data     [2][]byte
	end      [2]bool
	done     bool
	exitCode int
}

func (p *portion) empty() bool {
	return len(p.data[0])+len(p.data[1]) == 0 && !p.end[0] && !p.end[1] && !p.done
}

// take removes up to budget bytes of output, stdout first, and reports the
// end of streams and the exit once everything before them was taken. When
// there is nothing to report it returns the channel to wait on.
func (o *output) take(budget int) (*portion, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := &portion{}
	for i := range o.streams {
		s := &o.streams[i]
		n := min(len(s.data), budget)
		if n > 0 {
			p.data[i] = append([]byte(nil), s.data[:n]...)
			s.data = s.data[n:]
			budget -= n
		}
		if s.eof && len(s.data) == 0 && !s.endSent {
			p.end[i], s.endSent = true, true
		}
	}
	if o.exited && o.streams[0].endSent && o.streams[1].endSent {
		p.done, p.exitCode = true, o.exitCode
	}
	if len(p.data[0])+len(p.data[1]) > 0 {
		o.notify() // room for the pumps
	}
	if p.empty() {
		return nil, o.changed
	}
	return p, nil
}

// receive waits up to timeout for output; nil means the time ran out, the
// request was cancelled or the server is closing.
func (o *output) receive(ctx context.Context, closing <-chan struct{}, budget int, timeout time.Duration) *portion {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	// Every round either returns or waits for a change.
	for {
		p, wait := o.take(budget)
		if p != nil {
			return p
		}
		select {
		case <-wait:
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return nil
		case <-closing:
			return nil
		}
	}
}

// write sends data to the command's stdin and closes it at end. Writing
// to a command that no longer reads is not an error: its output tells.
func (c *command) write(data []byte, end bool, deadline time.Time) error {
	c.stdinMu.Lock()
	defer c.stdinMu.Unlock()
	if c.stdin == nil {
		return nil
	}
	var err error
	if len(data) > 0 {
		_ = c.stdin.SetWriteDeadline(deadline)
		_, err = c.stdin.Write(data)
		if errors.Is(err, syscall.EPIPE) {
			err = nil
		}
	}
	if end || err != nil {
		_ = c.stdin.Close()
		c.stdin = nil
	}
	return err
}

// signal delivers sig to the command's process group.
func (c *command) signal(sig syscall.Signal) {
	procgroup.Signal(c.proc, sig)
}

// terminate kills the command's process group and releases its pipes.
func (c *command) terminate() {
	c.signal(syscall.SIGKILL)
	_ = c.write(nil, true, time.Time{})
	c.out.mu.Lock()
	c.out.closed = true
	c.out.notify()
	c.out.mu.Unlock()
}

// commandLine joins a command and its arguments as Windows gives them to
// cmd.exe: with spaces, no quoting.
func commandLine(command string, args []string) string {
	return strings.TrimSpace(strings.Join(append([]string{command}, args...), " "))
}
