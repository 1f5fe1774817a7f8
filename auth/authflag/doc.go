// Package authflag registers the Kerberos command-line flags that krbcurl,
// winrs and other tools of this project share, and turns them into
// [auth.Option] values, so every tool spells an option the same way. It
// sits on package auth; auth/cmd/krbcurl and wsman/cmd/winrs import it.
package authflag
