package wsman

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf16"
)

// RunRequest is a command for [Run].
type RunRequest struct {
	Command string
	Args    []string
	// Stdin is sent to the command as it is read; nil closes the
	// command's stdin at once.
	Stdin io.Reader
	// Stdout and Stderr receive the output as it arrives; nil discards it.
	Stdout, Stderr io.Writer
	// Shell configures the shell the command runs in.
	Shell ShellOptions
}

// Run opens a shell with sc, runs one command in it through [Stream],
// deletes the shell and returns the command's exit code.
//
// When ctx is cancelled the command is terminated, the shell deleted (both
// under a fresh 30-second limit) and ctx.Err() returned. A failure to
// delete the shell after the command completed is returned with the exit
// code.
func Run(ctx context.Context, sc ShellClient, req RunRequest) (exitCode int, err error) {
	shellID, err := sc.CreateShell(ctx, req.Shell)
	if err != nil {
		return 0, err
	}
	defer func() {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if derr := sc.DeleteShell(cctx, shellID); derr != nil && err == nil {
			err = fmt.Errorf("deleting the shell: %w", derr)
		}
	}()
	commandID, err := sc.StartCommand(ctx, shellID, req.Command, req.Args...)
	if err != nil {
		return 0, err
	}
	return Stream(ctx, sc, shellID, commandID, req.Stdin, req.Stdout, req.Stderr)
}

// cleanupContext outlives a cancelled ctx, for the requests that tidy up.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// stdinBuffer is how much of stdin one Send carries at most (Send splits
// further to fit the envelope).
const stdinBuffer = 64 << 10

// stdinReadError is a failure to read the local stdin.
type stdinReadError struct{ err error }

func (e *stdinReadError) Error() string { return "wsman: reading stdin: " + e.err.Error() }
func (e *stdinReadError) Unwrap() error { return e.err }

// Stream drives a started command to completion: it sends stdin as it is
// read, in one goroutine, while it receives output in the caller's and
// writes it to stdout and stderr as each response arrives, so memory stays
// bounded by a few envelopes however much flows. It returns the exit code.
//
// A Receive that times out on the server is repeated, for as long as the
// command runs. When ctx is cancelled, or writing the output or reading
// stdin fails, the command is terminated (signal terminate) and the error
// returned. A Send the server refuses is ignored when the command
// completes anyway (it stopped reading), and returned once a Receive comes
// back with no output while the command still runs.
//
// Stream returns when the command completes even if a Read of stdin is
// still blocked (a terminal); that Read's data is then dropped.
func Stream(ctx context.Context, sc ShellClient, shellID, commandID string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	feedCtx, stopFeed := context.WithCancel(ctx)
	// A failure to read stdin interrupts the Receive under way, which may
	// otherwise wait for the whole operation timeout.
	recvCtx, interrupt := context.WithCancelCause(ctx)
	defer interrupt(nil)
	f := &feeder{sc: sc, shellID: shellID, commandID: commandID, done: make(chan error, 1), interrupt: interrupt}
	f.wg.Add(1)
	go f.run(feedCtx, stdin)
	defer func() {
		stopFeed()
		if !f.stop() {
			f.wg.Wait()
		}
	}()

	var sendErr error
	// The loop ends when the command completes, on any error, or when ctx
	// is cancelled (every Receive returns by then).
	for {
		out, err := sc.Receive(recvCtx, shellID, commandID)
		if err != nil {
			var re *stdinReadError
			if cause := context.Cause(recvCtx); errors.As(cause, &re) {
				err = cause
			}
			return 0, abort(ctx, sc, shellID, commandID, err)
		}
		if _, err := stdout.Write(out.Stdout); err != nil {
			return 0, abort(ctx, sc, shellID, commandID, fmt.Errorf("wsman: writing stdout: %w", err))
		}
		if _, err := stderr.Write(out.Stderr); err != nil {
			return 0, abort(ctx, sc, shellID, commandID, fmt.Errorf("wsman: writing stderr: %w", err))
		}
		if out.Done {
			return out.ExitCode, nil
		}
		select {
		case err := <-f.done:
			var re *stdinReadError
			if errors.As(err, &re) {
				return 0, abort(ctx, sc, shellID, commandID, err)
			}
			sendErr = err
		default:
		}
		if sendErr != nil && len(out.Stdout)+len(out.Stderr) == 0 {
			return 0, abort(ctx, sc, shellID, commandID, fmt.Errorf("wsman: sending stdin: %w", sendErr))
		}
	}
}

// abort terminates the command after err and returns the error to report:
// ctx.Err() when the context was cancelled.
func abort(ctx context.Context, sc ShellClient, shellID, commandID string, err error) error {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	_ = sc.Signal(cctx, shellID, commandID, SignalTerminate)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// feeder sends stdin to the command.
type feeder struct {
	sc                 ShellClient
	shellID, commandID string
	wg                 sync.WaitGroup
	done               chan error // the outcome, nil after End was sent
	interrupt          context.CancelCauseFunc

	mu      sync.Mutex
	stopped bool // guarded by mu: read no more
	reading bool // guarded by mu: inside stdin.Read, which cannot be interrupted
}

// stop tells the feeder to read no more and reports whether it is blocked
// in a Read; if not, it ends promptly (its Send is cancelled too).
func (f *feeder) stop() (reading bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	return f.reading
}

// read reads stdin unless the feeder was stopped.
func (f *feeder) read(stdin io.Reader, buf []byte) (int, error) {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return 0, context.Canceled
	}
	f.reading = true
	f.mu.Unlock()
	n, err := stdin.Read(buf)
	f.mu.Lock()
	f.reading = false
	f.mu.Unlock()
	return n, err
}

func (f *feeder) run(ctx context.Context, stdin io.Reader) {
	defer f.wg.Done()
	err := f.feed(ctx, stdin)
	var re *stdinReadError
	if errors.As(err, &re) {
		f.interrupt(err)
	}
	f.done <- err
}

func (f *feeder) feed(ctx context.Context, stdin io.Reader) error {
	if stdin == nil {
		return f.sc.Send(ctx, f.shellID, f.commandID, nil, true)
	}
	buf := make([]byte, stdinBuffer)
	// The loop ends at the end of stdin, on an error, or when ctx is
	// cancelled (the next Send fails).
	for {
		n, err := f.read(stdin, buf)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return &stdinReadError{err}
		}
		if n > 0 || eof {
			if serr := f.sc.Send(ctx, f.shellID, f.commandID, buf[:n], eof); serr != nil {
				return serr
			}
		}
		if eof {
			return nil
		}
	}
}

// PowerShell returns a RunRequest that runs script with
// "powershell -NoProfile -NonInteractive -EncodedCommand", which takes the
// script as base64 of UTF-16LE and so needs no quoting whatever it holds.
func PowerShell(script string) RunRequest {
	return RunRequest{Command: "powershell", Args: []string{"-NoProfile", "-NonInteractive", "-EncodedCommand", EncodePowerShell(script)}}
}

// EncodePowerShell encodes script for -EncodedCommand: base64 of its
// UTF-16LE form.
func EncodePowerShell(script string) string {
	units := utf16.Encode([]rune(script))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return base64.StdEncoding.EncodeToString(b)
}
