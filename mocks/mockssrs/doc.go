// Package mockssrs holds gomock mocks of the interfaces of the report
// server client, [github.com/krbhttp/krbhttp/sdk/ssrs]:
// MockClientInterface and MockClientWithResponsesInterface. Write code
// against ssrs.ClientWithResponsesInterface (which
// *ssrs.ClientWithResponses, returned by ssrs.New, implements) and test it
// with the mock.
package mockssrs

//go:generate go tool mockgen -typed -write_package_comment=false -destination=ssrs.gen.go -package=mockssrs github.com/krbhttp/krbhttp/sdk/ssrs ClientInterface,ClientWithResponsesInterface
