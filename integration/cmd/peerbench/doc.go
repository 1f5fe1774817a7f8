// Command peerbench compares this project with the peers people use
// today, every comparison measured in the same run against the same
// servers on loopback (one MIT KDC, one Apache mod_auth_gssapi, our
// acceptor, the IIS-like WinRM endpoint):
//
//   - HTTP clients on one Apache location: krbhttp, gokrb5's
//     spnego.Client, curl --negotiate and Python requests-kerberos;
//   - what a token costs the client (token up front against a server that
//     ignores it, minus the same requests without one);
//   - acceptors: Apache mod_auth_gssapi and auth/acceptor, each against
//     the same server unauthenticated, with tokens made per request and
//     with tokens made before the run (the server's cost alone);
//   - WinRM: wsman against pywinrm, whole runs and commands in one shell,
//     and 200 concurrent runs from one process;
//   - optionally the Go benchmarks' medians (-gobench FILE, the output of
//     go test -bench with -count).
//
// Each scenario runs -reps times, interleaved with the others so that a
// burst of load on the machine does not fall on one of them only, and the
// median is reported. It prints ratios and figures and asserts nothing
// about speed. With -out it writes the report as Markdown.
//
// Usage: peerbench [-n REQUESTS] [-reps N] [-winrm N] [-gobench FILE] [-out FILE]
package main
