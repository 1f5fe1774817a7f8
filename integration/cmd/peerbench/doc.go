// Command peerbench compares this project's Negotiate transport with the
// peers people use today, measured in the same run against the same Apache
// mod_auth_gssapi server and MIT KDC on loopback: curl --negotiate and
// Python requests-kerberos. It prints milliseconds per request and ratios;
// it asserts nothing about speed.
//
// Usage: peerbench [-n REQUESTS]
package main
