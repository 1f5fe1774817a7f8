package yarn

import "github.com/krbhttp/krbhttp/sdk/apierror"

// ResponseError is what [CheckResponse] returns: the status and, in Body,
// the RemoteException the ResourceManager sent, if any.
type ResponseError = apierror.Error[RemoteExceptionResult]

// CheckResponse returns nil when r's status is 2xx and a *[ResponseError]
// otherwise. r is any response of the client (*GetAppResponse,
// *UpdateAppStateResponse, ...).
func CheckResponse(r apierror.Response[RemoteExceptionResult]) error {
	return apierror.Check("yarn", r)
}

// Summary describes the exception, e.g. "NotFoundException:
// java.lang.Exception: app with id: application_1_0001 not found".
func (r RemoteExceptionResult) Summary() string {
	return apierror.JavaException(r.RemoteException.Exception, r.RemoteException.Message)
}
