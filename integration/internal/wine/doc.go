// Package wine runs Windows builds of the project's commands under Wine
// on the Linux test host, so that the Windows code (SSPI) is tested
// against the same MIT lab as everything else: Wine's Kerberos package
// sits on the host's MIT libraries, krb5.conf and credential cache
// (KRB5_CONFIG and KRB5CCNAME of the process that starts Wine).
//
// A Prefix is one throwaway WINEPREFIX, made once per test binary (its
// first creation takes some 20 seconds), with a persistent wineserver so
// that each program starts in a second or two, and with the one DLL Go
// programs need that Wine 8.0 lacks (bcryptprimitives.dll's ProcessPrng,
// built from dll/processprng.c with the MinGW-w64 cross compiler).
package wine
