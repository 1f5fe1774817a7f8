package authflag_test

import (
	"flag"
	"io"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/authflag"
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

func TestNoCBTFlag(t *testing.T) {
	f, _, err := parse(t, "--no-cbt")
	if err != nil || !f.NoCBT {
		t.Fatalf("%v %v", f.NoCBT, err)
	}
	with, _ := f.Options(nil)
	f, _, _ = parse(t)
	without, _ := f.Options(nil)
	if len(with) != len(without)+1 {
		t.Fatalf("--no-cbt adds %d options", len(with)-len(without))
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
