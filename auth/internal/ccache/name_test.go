package ccache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseName(t *testing.T) {
	for name, want := range map[string]Name{
		"FILE:/tmp/cc":            {Kind: KindFile, Type: "FILE", Residual: "/tmp/cc", Path: "/tmp/cc"},
		"/tmp/cc":                 {Kind: KindFile, Residual: "/tmp/cc", Path: "/tmp/cc"},
		"relative/cc":             {Kind: KindFile, Residual: "relative/cc", Path: "relative/cc"},
		"/tmp/odd:name":           {Kind: KindFile, Residual: "/tmp/odd:name", Path: "/tmp/odd:name"},
		"DIR:/run/cc":             {Kind: KindDir, Type: "DIR", Residual: "/run/cc", Dir: "/run/cc"},
		"DIR::/run/cc/tktABC":     {Kind: KindDir, Type: "DIR", Residual: ":/run/cc/tktABC", Dir: "/run/cc", Path: "/run/cc/tktABC"},
		"file:/tmp/lowercase":     {Kind: KindFile, Type: "file", Residual: "/tmp/lowercase", Path: "/tmp/lowercase"},
		"KEYRING:persistent:1000": {Kind: KindKeyring, Type: "KEYRING", Residual: "persistent:1000"},
		"KCM:":                    {Kind: KindKCM, Type: "KCM"},
		"KCM:1000:62013":          {Kind: KindKCM, Type: "KCM", Residual: "1000:62013"},
		"MEMORY:x":                {Kind: KindMemory, Type: "MEMORY", Residual: "x"},
		"API:y":                   {Kind: KindOther, Type: "API", Residual: "y"},
		"MSLSA:":                  {Kind: KindOther, Type: "MSLSA"},
		// A drive letter, as MIT reads it on every system.
		`C:\Users\alice\krb5cc`: {Kind: KindFile, Residual: `C:\Users\alice\krb5cc`, Path: `C:\Users\alice\krb5cc`},
		"FILE:z:/tmp/cc":        {Kind: KindFile, Type: "FILE", Residual: "z:/tmp/cc", Path: "z:/tmp/cc"},
	} {
		got, err := ParseName(name)
		if err != nil || got != want {
			t.Errorf("%q: got %+v, %v; want %+v", name, got, err, want)
		}
		if got.String() != name {
			t.Errorf("%q: String() = %q", name, got.String())
		}
	}
	for _, bad := range []string{"", "FILE:", "DIR:", "DIR::"} {
		if _, err := ParseName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

func TestCollection(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"tktB", "tktA", "tktC", "other"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := PrimaryFile(dir); err != nil || p != filepath.Join(dir, "tkt") {
		t.Errorf("no primary file: %q %v", p, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "primary"), []byte("tktC\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := CollectionFiles(dir)
	want := []string{filepath.Join(dir, "tktC"), filepath.Join(dir, "tktA"), filepath.Join(dir, "tktB")}
	if err != nil || !slices.Equal(files, want) {
		t.Errorf("files %q %v, want %q", files, err, want)
	}
	for _, bad := range []string{"../etc/passwd", "notatkt"} {
		if err := os.WriteFile(filepath.Join(dir, "primary"), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := PrimaryFile(dir); !errors.Is(err, ErrMalformed) {
			t.Errorf("primary %q: %v", bad, err)
		}
	}
	if _, err := CollectionFiles(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing collection: %v", err)
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{"FILE:/tmp/x", "DIR::/a/tkt", "KCM:", "/p", "a/b:c", ":", "DIR::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if n.String() != s {
			t.Fatalf("%q: String() = %q", s, n.String())
		}
		if (n.Kind == KindFile || n.Kind == KindDir) && n.Path == "" && n.Dir == "" {
			t.Fatalf("%q: no path in %+v", s, n)
		}
	})
}
