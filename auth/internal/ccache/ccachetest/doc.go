// Package ccachetest makes credentials and caches for the tests of the
// cache backends: synthetic credentials (which MIT's klist lists but no
// server accepts), and real ones from a throwaway MIT KDC.
package ccachetest
