// Command demo shows the project end to end on one machine: it starts a
// throwaway MIT KDC and the IIS-like server on loopback, makes
// authenticated calls with this project's Negotiate transport, prints what
// the server saw, and tears everything down.
package main
