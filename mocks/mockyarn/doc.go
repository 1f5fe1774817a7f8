// Package mockyarn holds gomock mocks of the interfaces of the YARN
// ResourceManager client, [github.com/krbhttp/krbhttp/sdk/yarn]:
// MockClientInterface and MockClientWithResponsesInterface. Write code
// against yarn.ClientWithResponsesInterface (which
// *yarn.ClientWithResponses, returned by yarn.New, implements) and test it
// with the mock.
package mockyarn

//go:generate go tool mockgen -typed -write_package_comment=false -destination=yarn.gen.go -package=mockyarn github.com/krbhttp/krbhttp/sdk/yarn ClientInterface,ClientWithResponsesInterface
