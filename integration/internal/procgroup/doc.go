// Package procgroup starts the test servers' child processes (Apache, the
// commands the WinRM endpoint runs) in a group of their own and signals
// the whole group, so that a stop reaches every process they forked. On
// Unix that is a process group; Windows has no group signals, so there a
// signal that ends a process kills the child itself and other signals are
// dropped. The integration module only runs its servers on Linux; the
// Windows files let it build (and vet) for Windows like every module.
package procgroup
