package authflag_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/authflag"
	"github.com/krbhttp/krbhttp/auth/credentials"
)

func parse(t *testing.T, args ...string) (*authflag.Flags, []string, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := authflag.Register(fs)
	err := fs.Parse(args)
	return f, fs.Args(), err
}

func TestDelegateFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want auth.DelegationPolicy
		rest int
	}{
		{nil, auth.DelegateNever, 0},
		// A bare --delegate must not take the URL as its value.
		{[]string{"--delegate", "https://host/"}, auth.DelegateAlways, 1},
		{[]string{"--delegate=always"}, auth.DelegateAlways, 0},
		{[]string{"--delegate=policy", "https://host/"}, auth.DelegatePolicy, 1},
		{[]string{"-delegate=never"}, auth.DelegateNever, 0},
		{[]string{"--delegate=false"}, auth.DelegateNever, 0},
	} {
		f, rest, err := parse(t, c.args...)
		if err != nil || f.Delegate != c.want || len(rest) != c.rest {
			t.Errorf("%q: %v %v %q", c.args, f.Delegate, err, rest)
			continue
		}
		opts, err := f.Options(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := auth.NewTransport(nil, opts...); err != nil {
			t.Errorf("%q: options refused: %v", c.args, err)
		}
	}
	if _, _, err := parse(t, "--delegate=sometimes"); err == nil {
		t.Error("--delegate=sometimes accepted")
	}
}

func TestNoCBTAndNoWriteBackFlags(t *testing.T) {
	for flag, set := range map[string]func(*authflag.Flags) bool{
		"--no-cbt":        func(f *authflag.Flags) bool { return f.NoCBT },
		"--no-write-back": func(f *authflag.Flags) bool { return f.NoWriteBack },
	} {
		f, _, err := parse(t, flag)
		if err != nil || !set(f) {
			t.Fatalf("%s: %v %v", flag, set(f), err)
		}
		with, _ := f.Options(nil)
		f, _, _ = parse(t)
		without, _ := f.Options(nil)
		if len(with) != len(without)+1 {
			t.Fatalf("%s adds %d options", flag, len(with)-len(without))
		}
	}
}

func TestPreemptiveFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want auth.PreemptiveMode
		rest int
	}{
		{nil, auth.PreemptiveNever, 0},
		{[]string{"--preemptive", "https://host/"}, auth.PreemptiveAlways, 1},
		{[]string{"--preemptive=after-challenge"}, auth.PreemptiveAfterChallenge, 0},
		{[]string{"--preemptive=never"}, auth.PreemptiveNever, 0},
	} {
		f, rest, err := parse(t, c.args...)
		if err != nil || f.Preemptive != c.want || len(rest) != c.rest {
			t.Errorf("%q: %v %v %q", c.args, f.Preemptive, err, rest)
		}
	}
	if _, _, err := parse(t, "--preemptive=sometimes"); err == nil {
		t.Error("--preemptive=sometimes accepted")
	}
}

func TestSchemeAndKDCTimeoutFlags(t *testing.T) {
	f, _, err := parse(t, "--auth-scheme", "Kerberos", "--kdc-timeout", "2s")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := f.Options(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.NewTransport(nil, opts...); err != nil {
		t.Fatal(err)
	}
	f, _, _ = parse(t, "--auth-scheme", "ntlm")
	if _, err := f.Options(nil); err == nil {
		t.Fatal("--auth-scheme ntlm accepted")
	}
}

// TestReorder: operands move after the flags; whether a flag takes the
// next argument is read from the flag set, so a value flag keeps its value
// and a boolean one (or a mode flag that may stand alone) does not.
func TestReorder(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("i", false, "")
	fs.String("o", "", "")
	f := authflag.Register(fs)
	args := authflag.Reorder(fs, []string{"https://h/", "-i", "--delegate", "-o", "out", "--principal", "alice", "--mutual=optional", "--", "-x"})
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if f.Delegate != auth.DelegateAlways || f.Principal != "alice" || f.Mutual != "optional" ||
		fs.Lookup("o").Value.String() != "out" || fs.Lookup("i").Value.String() != "true" {
		t.Fatalf("parsed %+v from %q", f, args)
	}
	if got := fs.Args(); len(got) != 2 || got[0] != "https://h/" || got[1] != "-x" {
		t.Fatalf("operands %q", got)
	}
}

func TestOptionsNameFlags(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--password-file", empty, "--keytab", "k"}, "--password-file and --keytab exclude each other"},
		{[]string{"--password-file", empty}, "--password-file"},
		{[]string{"--kdc-timeout", "-1s"}, "--kdc-timeout"},
	} {
		f, _, err := parse(t, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Options(nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "With") {
			t.Errorf("%q: %v; want an error naming %s and no Go option", c.args, err, c.want)
		}
	}
}

// TestExplain: each typed cause gets its own advice, naming flags, through
// the wrapping auth and credentials put around it.
func TestExplain(t *testing.T) {
	wrap := func(err error) error {
		return &auth.NegotiateError{SPN: "HTTP/web.example.test", Err: &credentials.Error{Op: "service ticket", Err: err}}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{wrap(&credentials.KDCError{Code: 7, Name: "KDC_ERR_S_PRINCIPAL_UNKNOWN"}), "--hostname-override"},
		{wrap(&credentials.KDCError{Code: 6, Name: "KDC_ERR_C_PRINCIPAL_UNKNOWN"}), "--principal"},
		{wrap(&credentials.KDCError{Code: 24, Name: "KDC_ERR_PREAUTH_FAILED"}), "--password-file or --keytab"},
		{wrap(credentials.ErrExpired), "kinit"},
		{wrap(credentials.ErrNoCredentials), "kinit"},
		{wrap(credentials.ErrKDCUnreachable), "krb5.conf"},
		{fmt.Errorf("send: %w", auth.ErrBodyNotReplayable), "--preemptive"},
		{&auth.MutualAuthenticationError{Reason: "no token"}, "--mutual=optional"},
	} {
		got := authflag.Explain(c.err)
		if !strings.Contains(got, c.want) || strings.Contains(got, "With") {
			t.Errorf("%v: %q; want it to name %s", c.err, got, c.want)
		}
	}
	for _, err := range []error{errors.New("other"), fmt.Errorf("x: %w", context.DeadlineExceeded), nil} {
		if got := authflag.Explain(err); got != "" {
			t.Errorf("%v: %q; want no advice", err, got)
		}
	}
	// The library's own message gives the advice in terms of options.
	if msg := wrap(&credentials.KDCError{Code: 7}).Error(); !strings.Contains(msg, "WithHostnameOverride") {
		t.Errorf("NegotiateError message %q gives no advice", msg)
	}
}
