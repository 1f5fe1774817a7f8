package wsman_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/wsman"
)

func ExampleNewClient() {
	// Over http the messages are encrypted with the Kerberos session;
	// credentials come from the default cache (kinit).
	c, err := wsman.NewClient("http://server.example.com:5985/wsman",
		wsman.WithAuth(auth.WithDelegation(auth.DelegateAlways)),
		wsman.WithOperationTimeout(30*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	code, err := c.Run(context.Background(), wsman.RunRequest{
		Command: "ipconfig", Args: []string{"/all"},
		Stdout: os.Stdout, Stderr: os.Stderr,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exit code", code)
}

func ExamplePowerShell() {
	req := wsman.PowerShell("Get-Date")
	fmt.Println(req.Command, strings.Join(req.Args, " "))
	// Output: powershell -NoProfile -NonInteractive -EncodedCommand RwBlAHQALQBEAGEAdABlAA==
}

// echoShell is a ShellClient that runs "echo" locally: what a mock of the
// interface can do in a test.
type echoShell struct{ line string }

func (e *echoShell) CreateShell(context.Context, wsman.ShellOptions) (string, error) {
	return "shell", nil
}

func (e *echoShell) StartCommand(_ context.Context, _, command string, args ...string) (string, error) {
	if command != "echo" {
		return "", &wsman.Fault{Code: 2, Message: "The system cannot find the file specified."}
	}
	e.line = strings.Join(args, " ") + "\n"
	return "command", nil
}

func (e *echoShell) Send(context.Context, string, string, []byte, bool) error { return nil }

func (e *echoShell) Receive(context.Context, string, string) (*wsman.Output, error) {
	return &wsman.Output{Stdout: []byte(e.line), Done: true}, nil
}

func (e *echoShell) Signal(context.Context, string, string, wsman.Signal) error { return nil }
func (e *echoShell) DeleteShell(context.Context, string) error                  { return nil }

func ExampleRun() {
	code, err := wsman.Run(context.Background(), &echoShell{}, wsman.RunRequest{
		Command: "echo", Args: []string{"hello", "world"}, Stdout: os.Stdout,
	})
	fmt.Println(code, err)
	// Output:
	// hello world
	// 0 <nil>
}

func ExampleIsFault() {
	_, err := wsman.Run(context.Background(), &echoShell{}, wsman.RunRequest{Command: "dir"})
	var f *wsman.Fault
	if errors.As(err, &f) {
		fmt.Println(f.Code, f.Message)
	}
	fmt.Println(wsman.IsFault(err, wsman.FaultShellNotFound))
	// Output:
	// 2 The system cannot find the file specified.
	// false
}
