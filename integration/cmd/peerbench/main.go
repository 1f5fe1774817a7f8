package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth/kdctest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/apache"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 200, "sequential requests per HTTP measurement")
	flag.IntVar(&o.reps, "reps", 5, "repetitions of every measurement (the median is reported)")
	flag.IntVar(&o.winrm, "winrm", 20, "WinRM commands per measurement (0 skips WinRM)")
	flag.IntVar(&o.concurrent, "concurrent", 200, "concurrent WinRM runs from one process")
	flag.StringVar(&o.gobench, "gobench", "", "go test -bench output to summarize")
	flag.StringVar(&o.out, "out", "", "write the report to this Markdown file")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(1)
	}
}

type options struct {
	n, reps, winrm, concurrent int
	gobench, out               string
}

// lab is what every scenario talks to.
type lab struct {
	realm      *kdctest.Realm
	conf       *krb5conf.Config
	ccache     string // FILE:...
	env        []string
	keytab     string
	apacheURL  string // scheme://host:port
	oursAuth   string // our acceptor, every request authenticated
	oursPublic string // the same server without the acceptor
}

func run(o options) error {
	if o.n < 1 || o.n > 100000 || o.reps < 1 || o.reps > 100 || o.winrm < 0 || o.winrm > 10000 || o.concurrent < 1 || o.concurrent > 2000 {
		return errors.New("a flag is out of range")
	}
	realm, err := kdctest.NewTemp()
	if err != nil {
		return err
	}
	defer realm.Close()
	if err := realm.AddPrincipal("alice", "bench-pw"); err != nil {
		return err
	}
	kt, err := realm.AddService("HTTP/localhost", false)
	if err != nil {
		return err
	}
	srv, err := apache.New(apache.Config{Keytab: kt, Krb5Config: realm.ConfigPath})
	if err != nil {
		return err
	}
	defer srv.Stop()
	ccache := "FILE:" + filepath.Join(realm.Dir, "alice.ccache")
	if out, err := realm.Run("sh", "-c", "echo bench-pw | kinit -c "+ccache+" alice"); err != nil {
		return fmt.Errorf("kinit: %v: %s", err, out)
	}
	conf, err := krb5conf.LoadFiles(realm.ConfigPath)
	if err != nil {
		return err
	}
	l := &lab{
		realm: realm, conf: conf, ccache: ccache, keytab: kt, apacheURL: srv.URL,
		env: append(os.Environ(), "KRB5_CONFIG="+realm.ConfigPath, "KRB5CCNAME="+ccache, "KRB5RCACHETYPE=none"),
	}
	stopOurs, err := l.startOurs()
	if err != nil {
		return err
	}
	defer stopOurs()

	r := &report{reps: o.reps, n: o.n, winrmN: o.winrm}
	s := &suite{reps: o.reps}
	if err := l.httpScenarios(s, o.n); err != nil {
		return err
	}
	var w *winrmLab
	if o.winrm > 0 {
		if w, err = l.startWinRM(); err != nil {
			return err
		}
		defer w.stop()
		w.scenarios(s, o.winrm)
	}
	fmt.Fprintf(os.Stderr, "peerbench: %d scenarios x %d repetitions\n", len(s.scenarios), o.reps)
	if err := s.run(); err != nil {
		return err
	}
	r.suite = s
	if w != nil {
		fmt.Fprintf(os.Stderr, "peerbench: %d concurrent WinRM runs\n", o.concurrent)
		if r.concurrent, err = w.concurrentRuns(o.concurrent); err != nil {
			return err
		}
	}
	r.tgs, _ = realm.TGSCount("alice@"+realm.Realm, "HTTP/localhost@"+realm.Realm)
	if o.gobench != "" {
		b, err := os.ReadFile(o.gobench)
		if err != nil {
			return err
		}
		r.gobench = parseGoBench(b)
	}
	r.machine = machine()
	var buf bytes.Buffer
	r.write(&buf)
	os.Stdout.Write(buf.Bytes())
	if o.out != "" {
		return os.WriteFile(o.out, buf.Bytes(), 0o644)
	}
	return nil
}

// scenario is one measured thing: f does n operations.
type scenario struct {
	name    string
	n       int
	f       func() error
	samples []time.Duration // per operation, one per repetition
}

type suite struct {
	reps      int
	scenarios []*scenario
}

func (s *suite) add(name string, n int, f func() error) {
	s.scenarios = append(s.scenarios, &scenario{name: name, n: n, f: f})
}

// run measures every scenario reps times, one repetition of all of them
// after the other, after one warm-up pass.
func (s *suite) run() error {
	for rep := -1; rep < s.reps; rep++ {
		for _, sc := range s.scenarios {
			start := time.Now()
			if err := sc.f(); err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			if rep >= 0 {
				sc.samples = append(sc.samples, time.Since(start)/time.Duration(sc.n))
			}
		}
	}
	return nil
}

func (s *suite) median(name string) time.Duration {
	for _, sc := range s.scenarios {
		if sc.name == name {
			return median(sc.samples)
		}
	}
	panic("peerbench: no scenario " + name)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func command(env []string, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// machine describes the CPU, the load and the versions of every peer.
func machine() []string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	lines := []string{fmt.Sprintf("CPU: %s, %d cores (runtime.NumCPU), %s/%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			line := fmt.Sprintf("load average at the end: %s %s %s", f[0], f[1], f[2])
			// The benchmark itself keeps about one core busy; a load above
			// the core count means other work shared the machine.
			if load, err := strconv.ParseFloat(f[0], 64); err == nil && load > float64(runtime.NumCPU()) {
				line += " (above the core count: other work shared the machine and the figures are noisier)"
			}
			lines = append(lines, line)
		}
	}
	lines = append(lines, "Go: "+runtime.Version())
	out, _ := exec.Command("dpkg-query", "-W", "-f", "${Package} ${Version}\\n",
		"krb5-kdc", "libgssapi-krb5-2", "apache2", "libapache2-mod-auth-gssapi", "curl",
		"python3", "python3-requests", "python3-requests-kerberos", "python3-winrm", "python3-gssapi").Output()
	for line := range strings.Lines(string(out)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	lines = append(lines, "gokrb5: "+gokrb5Version())
	return lines
}

func gokrb5Version() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/jcmturner/gokrb5/v8").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
