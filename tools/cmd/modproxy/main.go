// Command modproxy writes a module proxy on the file system (the layout
// GOPROXY=file://DIR reads, as "go help goproxy" describes it) serving
// each module directory given at one version, so that a module outside
// this repository can require the modules as a user's would, without
// replace directives and before any tag exists. scripts/release-check.sh
// runs it.
//
// Usage:
//
//	modproxy -o DIR -version v0.1.0 MODULE_DIR...
//
// The zips are made as the go command makes them from a repository
// (golang.org/x/mod/zip: nested modules and vendor directories left out,
// the same file checks), from whatever files MODULE_DIR holds: give it a
// copy of the tracked files.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("modproxy", flag.ContinueOnError)
	out := fs.String("o", "", "directory of the proxy to write (required)")
	version := fs.String("version", "", "version to serve every module at, e.g. v0.1.0 (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *out == "" || *version == "":
		return errors.New("-o and -version are required")
	case !semver.IsValid(*version) || semver.Canonical(*version) != *version:
		return fmt.Errorf("-version %q: not a canonical semantic version", *version)
	case fs.NArg() == 0:
		return errors.New("no module directory given")
	}
	for _, dir := range fs.Args() {
		path, err := serve(*out, *version, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		fmt.Printf("%s@%s\n", path, *version)
	}
	return nil
}

// serve writes list, .info, .mod and .zip of the module in dir.
func serve(out, version, dir string) (string, error) {
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return "", errors.New("go.mod names no module")
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	vdir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return "", err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return "", err
	}
	files := map[string][]byte{"list": []byte(version + "\n"), version + ".info": info, version + ".mod": gomod}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	f, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		return "", err
	}
	err = zip.CreateFromDir(f, module.Version{Path: path, Version: version}, dir)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, err
}
