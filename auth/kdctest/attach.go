package kdctest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// AttachTimeout bounds how long [Attach] waits for the realm's KDC to
// accept connections: a lab's KDC may still be starting (a container
// started at the same time as its client).
var AttachTimeout = 30 * time.Second

// Attach adopts a realm directory made by someone else, such as [New] in
// another process or the integration lab's realm.sh (on the host, or in the
// compose kdc service, with the directory on a shared volume), whose KDC
// runs elsewhere. The directory must hold krb5.conf and kdc.conf as those
// write them, and the database. kadmin.local then works on that database
// directly (MIT locks it, so the running KDC sees new principals at once),
// and the KDC log is read from the directory, so every method works as on a
// realm from [New].
//
// Attach waits up to [AttachTimeout] for the KDC named in krb5.conf to
// accept TCP connections and fails otherwise, so a test run against a lab
// that is down fails instead of passing vacuously. Stop and Close do nothing:
// the KDC belongs to whoever started it.
func Attach(dir string) (*Realm, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	r := &Realm{
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "krb5.conf"),
		KDCProfile: filepath.Join(dir, "kdc.conf"),
		LogPath:    filepath.Join(dir, "kdc.log"),
		bins:       bins,
		passwords:  make(map[string]string),
	}
	for _, f := range []string{r.KDCProfile, filepath.Join(dir, "principal")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("kdctest: attach %s: not a realm directory: %w", dir, err)
		}
	}
	if r.Realm, r.KDCAddr, err = realmKDC(r.ConfigPath); err != nil {
		return nil, err
	}
	if err := waitKDC(r.KDCAddr, AttachTimeout); err != nil {
		return nil, fmt.Errorf("kdctest: attach %s: %w", dir, err)
	}
	return r, nil
}

// realmKDC returns the default realm of a krb5.conf and the first KDC
// listed for it, as host:port (88 when no port is given).
func realmKDC(path string) (realm, kdc string, err error) {
	cfg, err := krb5conf.LoadFiles(path)
	if err != nil {
		return "", "", fmt.Errorf("kdctest: attach: %w", err)
	}
	realm = cfg.LibDefaults.DefaultRealm
	kdcs := cfg.KDCs(realm)
	if realm == "" || len(kdcs) == 0 {
		return "", "", fmt.Errorf("kdctest: attach: %s names no default_realm with a kdc", path)
	}
	return realm, kdcs[0], nil
}

// waitKDC waits until addr accepts a TCP connection, for at most timeout.
func waitKDC(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var err error
	for {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", addr, time.Second); err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.Join(fmt.Errorf("the KDC at %s did not accept connections within %s", addr, timeout), err)
}
