package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
)

// TestUsageErrors: winrs refuses bad command lines with exit status 125
// and says why, before any connection.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--", "dir"}, "-r URL is required"},
		{[]string{"-r", "http://h/wsman"}, "no command given"},
		{[]string{"-r", "http://h/wsman", "--encryption", "maybe", "dir"}, "unknown encryption mode"},
		{[]string{"-r", "http://h/wsman", "--auth-scheme", "ntlm", "dir"}, "unknown authentication scheme"},
		{[]string{"-r", "http://h/wsman", "--env", "NOEQUALS", "dir"}, "want NAME=VALUE"},
		{[]string{"-r", "ftp://h/wsman", "dir"}, "not an http or https URL"},
		{[]string{"-r", "http://h/wsman", "--mutual", "sometimes", "dir"}, "mutual"},
		{[]string{"--no-such-flag"}, "flag provided but not defined"},
	} {
		var stderr strings.Builder
		code := run(context.Background(), c.args, strings.NewReader(""), &strings.Builder{}, &stderr)
		if code != exitFailure || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr.String(), exitFailure, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	o, err := parse([]string{"-r", "https://h:5986/wsman", "--env", "A=1", "--env", "B=x=y", "--workdir", `C:\temp`,
		"--no-profile", "--codepage", "437", "--", "cmd", "/c", "dir"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if o.shell.Environment["A"] != "1" || o.shell.Environment["B"] != "x=y" || o.shell.WorkingDirectory != `C:\temp` ||
		!o.shell.NoProfile || o.shell.Codepage != 437 || strings.Join(o.command, " ") != "cmd /c dir" {
		t.Fatalf("%+v", o)
	}
}

// TestDescribeKerberosFailures: each Kerberos failure gets the advice for
// its cause, in flags; "run kinit" only where a ticket is missing.
func TestDescribeKerberosFailures(t *testing.T) {
	t.Parallel()
	neg := func(err error) error {
		return fmt.Errorf("wsman: Create: %w", &auth.NegotiateError{SPN: "HTTP/alias.example.test", Err: err})
	}
	for _, c := range []struct {
		err       error
		want, not string
	}{
		{neg(&credentials.KDCError{Code: 7, Name: "KDC_ERR_S_PRINCIPAL_UNKNOWN"}), "--hostname-override", "kinit"},
		{neg(credentials.ErrKDCUnreachable), "krb5.conf", "kinit"},
		{neg(credentials.ErrNoCredentials), "run kinit", "With"},
	} {
		got := describe(c.err)
		if !strings.Contains(got, c.want) || strings.Contains(got, c.not) {
			t.Errorf("%q: want %q and no %q", got, c.want, c.not)
		}
	}
}
