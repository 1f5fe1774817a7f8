// Package memory is the MEMORY: credential cache type: caches that live in
// the process, named by the rest of the cache name ("MEMORY:job1"), as
// MIT's cc_memory.c keeps them. Every Open of the same name in a process
// returns the same cache; nothing is written anywhere and everything is
// gone when the process ends.
package memory
