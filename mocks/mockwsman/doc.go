// Package mockwsman holds gomock mocks of the interfaces of the WinRM
// client, [github.com/krbhttp/krbhttp/wsman]: MockShellClient (the
// shell operations one by one) and MockRunner (a command run to
// completion). Write code against wsman.ShellClient or wsman.Runner
// (which *wsman.Client implements) and test it with the mock.
package mockwsman

//go:generate go tool mockgen -typed -write_package_comment=false -destination=wsman.gen.go -package=mockwsman github.com/krbhttp/krbhttp/wsman ShellClient,Runner
