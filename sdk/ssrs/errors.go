package ssrs

import "github.com/krbhttp/krbhttp/sdk/apierror"

// ResponseError is what [CheckResponse] returns: the status and, in Body,
// the OData error the server sent, if any.
type ResponseError = apierror.Error[ODataError]

// CheckResponse returns nil when r's status is 2xx and a *[ResponseError]
// otherwise. r is any response of the client (*ListFoldersResponse,
// *CreateReportResponse, ...).
func CheckResponse(r apierror.Response[ODataError]) error {
	return apierror.Check("ssrs", r)
}

// Summary describes the error, e.g. "rsItemNotFound: The item '/x' cannot
// be found."
func (e ODataError) Summary() string {
	if e.Error.Code == "" && e.Error.Message == "" {
		return ""
	}
	return e.Error.Code + ": " + e.Error.Message
}
