package main

import (
	"fmt"
	"io"
	"time"
)

type report struct {
	reps, n, winrmN int
	suite           *suite
	concurrent      *concurrentResult
	tgs             int
	gobench         []goBench
	machine         []string
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func ratio(a, b time.Duration) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

func (r *report) write(w io.Writer) {
	s := r.suite
	m := s.median
	fmt.Fprintf(w, "# Benchmarks\n\nWritten by `bash scripts/bench.sh`; every figure below comes from that one run. ")
	fmt.Fprintf(w, "Each measurement was repeated %d times, interleaved with the others, and the median is shown. ", r.reps)
	fmt.Fprintf(w, "Ratios compare figures of the same run; nothing here is asserted by a test.\n\n## Machine\n\n")
	for _, line := range r.machine {
		fmt.Fprintf(w, "- %s\n", line)
	}

	fmt.Fprintf(w, "\n## HTTP clients on one Apache mod_auth_gssapi location\n\n%d sequential GETs per measurement on one keep-alive connection, MIT KDC and Apache on loopback.\n\n", r.n)
	fmt.Fprintf(w, "| client | ms/request | vs gokrb5 | vs curl | vs requests-kerberos |\n|---|---:|---:|---:|---:|\n")
	for _, name := range []string{scOurs, scGokrb5, scCurl, scPython, scOursUpFront, scOursAfter, scOursConn, scPythonConn} {
		d := m(name)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", name, ms(d), ratio(d, m(scGokrb5)), ratio(d, m(scCurl)), ratio(d, m(scPython)))
	}
	fmt.Fprintf(w, "\nKDC service-ticket requests for HTTP/localhost by alice over the whole run (every client, every repetition): %d\n", r.tgs)

	tokenCost := m(scIgnoredToken) - m(scIgnoredNoToken)
	fmt.Fprintf(w, "\n## What a token costs the client\n\nAgainst a server that ignores Authorization, the same %d GETs with a token built for every request and without one.\n\n", r.n)
	fmt.Fprintf(w, "| measurement | ms/request |\n|---|---:|\n| %s | %s |\n| %s | %s |\n| **difference: one token** | **%.1f us** |\n",
		scIgnoredToken, ms(m(scIgnoredToken)), scIgnoredNoToken, ms(m(scIgnoredNoToken)), float64(tokenCost)/1e3)

	fmt.Fprintf(w, "\n## Acceptors: Apache mod_auth_gssapi and auth/acceptor\n\n%d GETs each against each server: from a plain client; from the krbhttp client making its token up front for every request (mutual authentication verified); and from a plain client sending tokens the krbhttp client made before the run (mutual authentication asked for, the reply not checked), which leaves the server's cost alone. Our server runs in the benchmark's process; Apache in its own.\n\n", r.n)
	fmt.Fprintf(w, "| server | unauthenticated ms/request | tokens made beforehand ms/request | vs unauthenticated | token made per request ms/request | vs unauthenticated |\n|---|---:|---:|---:|---:|---:|\n")
	for _, row := range []struct{ name, public, made, auth string }{
		{"Apache mod_auth_gssapi", scApachePublic, scApacheMade, scApacheAuth},
		{"auth/acceptor", scOursPublic, scOursMade, scOursAuth},
	} {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", row.name, ms(m(row.public)), ms(m(row.made)), ratio(m(row.made), m(row.public)), ms(m(row.auth)), ratio(m(row.auth), m(row.public)))
	}
	fmt.Fprintf(w, "\nauth/acceptor authenticated vs Apache authenticated: %s with tokens made beforehand, %s with a token made per request\n", ratio(m(scOursMade), m(scApacheMade)), ratio(m(scOursAuth), m(scApacheAuth)))

	if r.winrmN > 0 {
		fmt.Fprintf(w, "\n## WinRM: wsman and pywinrm against the IIS-like endpoint\n\n`true` run %d times per measurement over http. Debian's pywinrm cannot encrypt messages over http, so it is compared with wsman unencrypted; wsman with Kerberos message encryption is shown besides.\n\n", r.winrmN)
		fmt.Fprintf(w, "| client | ms/command | commands/s | vs pywinrm |\n|---|---:|---:|---:|\n")
		for _, p := range [][2]string{
			{scWinRMOursEnc, scWinRMPython}, {scWinRMOurs, scWinRMPython}, {scWinRMPython, scWinRMPython},
			{scWinRMOursShellEnc, scWinRMPythonShell}, {scWinRMOursShell, scWinRMPythonShell}, {scWinRMPythonShell, scWinRMPythonShell},
		} {
			d := m(p[0])
			fmt.Fprintf(w, "| %s | %s | %.0f | %s |\n", p[0], ms(d), float64(time.Second)/float64(d), ratio(d, m(p[1])))
		}
		if c := r.concurrent; c != nil {
			fmt.Fprintf(w, "\n%d concurrent `Run`s from one wsman client, message encryption on: %s wall clock (%.0f runs/s); peak live heap %.1f MiB, peak memory held by the Go runtime %.1f MiB, peak RSS %s (before: %s); goroutines spent %.3f s in total blocked on mutexes.\n",
				c.runs, c.wall.Round(time.Millisecond), float64(c.runs)/c.wall.Seconds(), float64(c.peakHeap)/(1<<20), float64(c.peakTotal)/(1<<20), c.vmHWMAfter, c.vmHWMBefore, c.mutexWait)
		}
	}

	if len(r.gobench) > 0 {
		fmt.Fprintf(w, "\n## Go benchmarks\n\nMedians over the `-count` runs of `go test -bench`, with allocations.\n\n")
		fmt.Fprintf(w, "| benchmark | ns/op | MB/s | B/op | allocs/op |\n|---|---:|---:|---:|---:|\n")
		for _, b := range r.gobench {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", b.name, b.col("ns/op"), b.col("MB/s"), b.col("B/op"), b.col("allocs/op"))
		}
		for _, pair := range [][2]string{
			{"BenchmarkWrap/SealAppend/1024", "BenchmarkRawAESCTSHMACSHA1/1024"},
			{"BenchmarkWrap/SealAppend/153600", "BenchmarkRawAESCTSHMACSHA1/153600"},
			{"BenchmarkWrap/Sealer/1024", "BenchmarkRawAESCTSHMACSHA1/1024"},
			{"BenchmarkWrap/Sealer/153600", "BenchmarkRawAESCTSHMACSHA1/153600"},
		} {
			a, b := findBench(r.gobench, pair[0]), findBench(r.gobench, pair[1])
			if a != nil && b != nil && a.median("MB/s") > 0 && b.median("MB/s") > 0 {
				fmt.Fprintf(w, "\n%s: %.0f MB/s, %.0f%% of the raw AES-CBC + HMAC-SHA1 floor (%s)", pair[0], a.median("MB/s"), 100*a.median("MB/s")/b.median("MB/s"), pair[1])
			}
		}
		fmt.Fprintf(w, "\n(SealAppend writes into a buffer the caller reuses, as the floor does; Seal allocates the token, so its figure also holds the allocation, the garbage collection it causes and the page faults of memory the runtime returned to the system.)")
		// Differences and ratios of benchmarks run side by side in one
		// process: what a token costs the client's transport, and what
		// per-request authentication costs our acceptor.
		if tok, none := findBench(r.gobench, "BenchmarkTokenCost/token"), findBench(r.gobench, "BenchmarkTokenCost/none"); tok != nil && none != nil {
			fmt.Fprintf(w, "\nBenchmarkTokenCost: a token costs the transport %.1f us (token %.1f us, none %.1f us per request)",
				(tok.median("ns/op")-none.median("ns/op"))/1e3, tok.median("ns/op")/1e3, none.median("ns/op")/1e3)
		}
		if auth, plain := findBench(r.gobench, "BenchmarkPerRequestAuthentication/memory"), findBench(r.gobench, "BenchmarkPerRequestAuthentication/unauthenticated"); auth != nil && plain != nil && plain.median("ns/op") > 0 {
			fmt.Fprintf(w, "\nBenchmarkPerRequestAuthentication: authenticated / unauthenticated %.2fx (memory replay store)", auth.median("ns/op")/plain.median("ns/op"))
		}
		fmt.Fprintln(w)
	}
}
