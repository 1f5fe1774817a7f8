package mockyarn_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/krbhttp/krbhttp/mocks/mockyarn"
	"github.com/krbhttp/krbhttp/sdk/yarn"
)

// KillStale is the user code under test: it kills the running
// applications of a queue that have run longer than maxMillis, and
// returns their ids. It depends on the client's interface, which
// yarn.New's client implements.
func KillStale(ctx context.Context, c yarn.ClientWithResponsesInterface, queue string, maxMillis int64) ([]string, error) {
	apps, err := c.ListAppsWithResponse(ctx, &yarn.ListAppsParams{States: new("RUNNING"), Queue: &queue})
	if err != nil {
		return nil, err
	}
	if err := yarn.CheckResponse(apps); err != nil {
		return nil, err
	}
	var killed []string
	if apps.JSON200.Apps == nil {
		return nil, nil
	}
	for _, app := range apps.JSON200.Apps.App {
		if app.ElapsedTime == nil || *app.ElapsedTime <= maxMillis {
			continue
		}
		resp, err := c.UpdateAppStateWithResponse(ctx, app.Id, yarn.AppState{State: yarn.AppStateValueKILLED})
		if err != nil {
			return killed, err
		}
		if err := yarn.CheckResponse(resp); err != nil {
			return killed, err
		}
		killed = append(killed, app.Id)
	}
	return killed, nil
}

func response(status int) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status)}
}

func app(id string, elapsed int64) yarn.App {
	return yarn.App{Id: id, State: yarn.AppStateValueRUNNING, ElapsedTime: &elapsed}
}

func TestKillStaleKillsOnlyTheOldOnes(t *testing.T) {
	ctrl := gomock.NewController(t)
	c := mockyarn.NewMockClientWithResponsesInterface(ctrl)
	list := &yarn.AppsResult{}
	list.Apps = &struct {
		App []yarn.App `json:"app"`
	}{App: []yarn.App{app("application_1_0001", 10), app("application_1_0002", 99_999)}}
	gomock.InOrder(
		c.EXPECT().ListAppsWithResponse(gomock.Any(), gomock.Cond(func(p *yarn.ListAppsParams) bool {
			return p != nil && *p.Queue == "adhoc" && *p.States == "RUNNING"
		})).Return(&yarn.ListAppsResponse{HTTPResponse: response(200), JSON200: list}, nil),
		c.EXPECT().UpdateAppStateWithResponse(gomock.Any(), "application_1_0002", yarn.AppState{State: yarn.AppStateValueKILLED}).
			Return(&yarn.UpdateAppStateResponse{HTTPResponse: response(202), JSON202: &yarn.AppState{State: yarn.AppStateValueRUNNING}}, nil),
	)
	killed, err := KillStale(t.Context(), c, "adhoc", 60_000)
	if err != nil || len(killed) != 1 || killed[0] != "application_1_0002" {
		t.Fatalf("KillStale = %v, %v", killed, err)
	}
}

func TestKillStaleReportsAForbiddenKill(t *testing.T) {
	ctrl := gomock.NewController(t)
	c := mockyarn.NewMockClientWithResponsesInterface(ctrl)
	list := &yarn.AppsResult{}
	list.Apps = &struct {
		App []yarn.App `json:"app"`
	}{App: []yarn.App{app("application_1_0003", 99_999)}}
	c.EXPECT().ListAppsWithResponse(gomock.Any(), gomock.Any()).Return(&yarn.ListAppsResponse{HTTPResponse: response(200), JSON200: list}, nil)
	forbidden := &yarn.Error{RemoteException: yarn.RemoteException{Exception: "ForbiddenException", Message: "java.lang.Exception: User bob is not allowed to kill application_1_0003"}}
	c.EXPECT().UpdateAppStateWithResponse(gomock.Any(), "application_1_0003", gomock.Any()).
		Return(&yarn.UpdateAppStateResponse{HTTPResponse: response(403), JSONDefault: forbidden}, nil)
	_, err := KillStale(t.Context(), c, "adhoc", 60_000)
	var re *yarn.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 403 || re.Body.RemoteException.Exception != "ForbiddenException" {
		t.Fatalf("KillStale = %v, want the 403", err)
	}
}
