// Package mockcredentials holds gomock mocks of the ticket sources of
// package [github.com/krbhttp/krbhttp/auth/credentials]: MockSource,
// MockTGTSource and MockDropper (a source that is told which tickets a
// server refused, see credentials.Dropper). Give one to auth.WithCredentials to test code that uses
// an auth.Transport without a KDC: return an error to see how the code
// handles a Kerberos failure, or a ticket made with a test keytab to go
// through a real handshake with an acceptor.
package mockcredentials

//go:generate go tool mockgen -typed -write_package_comment=false -destination=credentials.gen.go -package=mockcredentials github.com/krbhttp/krbhttp/auth/credentials Source,TGTSource,Dropper
