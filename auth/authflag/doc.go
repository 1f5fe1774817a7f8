// Package authflag registers the Kerberos command-line flags that krbcurl,
// winrs and other tools of this project share, and turns them into
// [auth.Option] values, so every tool spells an option the same way;
// [Reorder] lets operands precede flags (as curl's do) whatever flags a
// tool adds, and [Explain] turns a failure's typed cause into advice that
// names these flags. It
// sits on package auth; auth/cmd/krbcurl and wsman/cmd/winrs import it.
package authflag
