package mockwsman_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/krbhttp/krbhttp/mocks/mockwsman"
	"github.com/krbhttp/krbhttp/wsman"
)

// FreeBytes is user code under test: it asks a Windows host, through
// WinRM, how many bytes are free on drive C:.
func FreeBytes(ctx context.Context, r wsman.Runner) (int64, error) {
	var out bytes.Buffer
	code, err := r.Run(ctx, wsman.RunRequest{
		Command: "powershell.exe",
		Args:    []string{"-NoProfile", "-Command", "(Get-PSDrive C).Free"},
		Stdout:  &out,
	})
	if err != nil {
		return 0, err
	}
	if code != 0 {
		return 0, fmt.Errorf("powershell exited with %d", code)
	}
	return strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
}

func TestFreeBytesParsesTheOutput(t *testing.T) {
	r := mockwsman.NewMockRunner(gomock.NewController(t))
	r.EXPECT().Run(gomock.Any(), gomock.Cond(func(req wsman.RunRequest) bool { return req.Command == "powershell.exe" })).
		DoAndReturn(func(_ context.Context, req wsman.RunRequest) (int, error) {
			fmt.Fprint(req.Stdout, "52613349376\r\n")
			return 0, nil
		})
	n, err := FreeBytes(t.Context(), r)
	if err != nil || n != 52613349376 {
		t.Fatalf("FreeBytes = %d, %v", n, err)
	}
}

func TestFreeBytesReportsAFailedCommand(t *testing.T) {
	r := mockwsman.NewMockRunner(gomock.NewController(t))
	r.EXPECT().Run(gomock.Any(), gomock.Any()).Return(1, nil)
	if _, err := FreeBytes(t.Context(), r); err == nil || !strings.Contains(err.Error(), "exited with 1") {
		t.Fatalf("FreeBytes = %v, want the exit code reported", err)
	}
}

// RunAll is user code under test: it runs commands one after the other in
// one shell, stops at the first that fails, and always deletes the shell.
func RunAll(ctx context.Context, sc wsman.ShellClient, commands ...string) (err error) {
	shell, err := sc.CreateShell(ctx, wsman.ShellOptions{})
	if err != nil {
		return err
	}
	defer func() {
		if derr := sc.DeleteShell(context.WithoutCancel(ctx), shell); err == nil {
			err = derr
		}
	}()
	for _, command := range commands {
		id, err := sc.StartCommand(ctx, shell, command)
		if err != nil {
			return err
		}
		for {
			out, err := sc.Receive(ctx, shell, id)
			if err != nil {
				return err
			}
			if out.Done {
				if out.ExitCode != 0 {
					return fmt.Errorf("%s exited with %d", command, out.ExitCode)
				}
				break
			}
		}
	}
	return nil
}

func TestRunAllStopsAtTheFirstFailureAndDeletesTheShell(t *testing.T) {
	sc := mockwsman.NewMockShellClient(gomock.NewController(t))
	gomock.InOrder(
		sc.EXPECT().CreateShell(gomock.Any(), gomock.Any()).Return("shell-1", nil),
		sc.EXPECT().StartCommand(gomock.Any(), "shell-1", "ipconfig /flushdns").Return("cmd-1", nil),
		sc.EXPECT().Receive(gomock.Any(), "shell-1", "cmd-1").Return(&wsman.Output{}, nil), // nothing yet
		sc.EXPECT().Receive(gomock.Any(), "shell-1", "cmd-1").Return(&wsman.Output{Done: true}, nil),
		sc.EXPECT().StartCommand(gomock.Any(), "shell-1", "net stop spooler").Return("cmd-2", nil),
		sc.EXPECT().Receive(gomock.Any(), "shell-1", "cmd-2").Return(&wsman.Output{Done: true, ExitCode: 2}, nil),
		sc.EXPECT().DeleteShell(gomock.Any(), "shell-1").Return(nil),
	)
	// The third command is never started: the mock fails the test if it is.
	err := RunAll(t.Context(), sc, "ipconfig /flushdns", "net stop spooler", "net start spooler")
	if err == nil || err.Error() != "net stop spooler exited with 2" {
		t.Fatalf("RunAll = %v", err)
	}
}
