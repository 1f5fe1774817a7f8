package restapis_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/sdk/yarn"
)

// newRM serves a ResourceManager with security off and returns clients
// acting as the given users.
func newRM(t *testing.T, cfg restapis.ResourceManagerConfig, users ...string) map[string]*yarn.ClientWithResponses {
	t.Helper()
	rm, err := restapis.NewResourceManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rm.Handler)
	t.Cleanup(srv.Close)
	out := map[string]*yarn.ClientWithResponses{}
	for _, u := range users {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(tr.CloseIdleConnections)
		c, err := yarn.NewWithClient(srv.URL, &http.Client{Transport: asUser{u, tr}})
		if err != nil {
			t.Fatal(err)
		}
		out[u] = c
	}
	return out
}

type yarnResponse interface {
	StatusCode() int
	Status() string
	GetJSONDefault() *yarn.Error
}

func okY[R yarnResponse](r R, err error) func(*testing.T) R {
	return func(t *testing.T) R {
		t.Helper()
		if err == nil {
			err = yarn.CheckResponse(r)
		}
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func wantYarnError(t *testing.T, r yarnResponse, err error, status int, exception string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var re *yarn.ResponseError
	if !errors.As(yarn.CheckResponse(r), &re) || re.StatusCode != status || re.Body == nil || re.Body.RemoteException.Exception != exception {
		t.Fatalf("got %v, want %d %s", yarn.CheckResponse(r), status, exception)
	}
}

// submit gets an id and submits an application to queue as c's user.
func submit(t *testing.T, c *yarn.ClientWithResponses, name, queue string) string {
	t.Helper()
	ctx := t.Context()
	na := okY(c.NewApplicationWithResponse(ctx))(t).JSON200
	if na.MaximumResourceCapability.Memory == nil || *na.MaximumResourceCapability.Memory != 8192 {
		t.Errorf("new-application: %+v", na)
	}
	sub := okY(c.SubmitApplicationWithResponse(ctx, yarn.ApplicationSubmissionContext{
		ApplicationId: na.ApplicationId, ApplicationName: &name, Queue: &queue, ApplicationType: new("SPARK"),
		AmContainerSpec: yarn.ContainerLaunchContext{},
		Resource:        &yarn.Resource{Memory: new(int64(2048)), VCores: new(int32(1))},
	}))(t)
	if sub.StatusCode() != http.StatusAccepted {
		t.Errorf("submit: %s, want 202", sub.Status())
	}
	return na.ApplicationId
}

func TestResourceManagerApplications(t *testing.T) {
	t.Parallel()
	cs := newRM(t, restapis.ResourceManagerConfig{Queues: []string{"default", "adhoc"}, ACLs: true, Admins: []string{"yarn"}}, "alice", "bob", "yarn")
	alice, ctx := cs["alice"], t.Context()

	if apps := okY(alice.ListAppsWithResponse(ctx, nil))(t).JSON200; apps.Apps != nil {
		t.Fatalf("no applications yet, got %+v", apps.Apps)
	}
	id := submit(t, alice, "nightly", "default")
	failed := submit(t, alice, "lost", "nope")

	app := okY(alice.GetAppWithResponse(ctx, id))(t).JSON200.App
	if app.State != yarn.AppStateValueRUNNING || app.User != "alice" || *app.AllocatedMB != 2048 || *app.ApplicationType != "SPARK" {
		t.Errorf("GetApp: %+v", app)
	}
	bad := okY(alice.GetAppWithResponse(ctx, failed))(t).JSON200.App
	if bad.State != yarn.AppStateValueFAILED || *bad.Diagnostics == "" {
		t.Errorf("an application for an unknown queue: %+v", bad)
	}
	running := okY(alice.ListAppsWithResponse(ctx, &yarn.ListAppsParams{States: new("running"), User: new("alice")}))(t).JSON200
	if running.Apps == nil || len(running.Apps.App) != 1 || running.Apps.App[0].Id != id {
		t.Errorf("running apps: %+v", running.Apps)
	}
	l, err := alice.ListAppsWithResponse(ctx, &yarn.ListAppsParams{States: new("SLEEPING")})
	wantYarnError(t, l, err, http.StatusBadRequest, "BadRequestException")
	att := okY(alice.ListAppAttemptsWithResponse(ctx, id))(t).JSON200.AppAttempts.AppAttempt
	if len(att) != 1 || *att[0].NodeId != "node1.lab:45454" {
		t.Errorf("attempts: %+v", att)
	}
	stats := okY(alice.GetAppStatisticsWithResponse(ctx, &yarn.GetAppStatisticsParams{States: new("RUNNING,FAILED")}))(t).JSON200.AppStatInfo.StatItem
	if len(*stats) != 2 || *(*stats)[0].Count != 1 || *(*stats)[1].Count != 1 {
		t.Errorf("statistics: %+v", *stats)
	}
	m := okY(alice.GetClusterMetricsWithResponse(ctx))(t).JSON200.ClusterMetrics
	if *m.AppsSubmitted != 2 || *m.AppsRunning != 1 || *m.AllocatedMB != 2048 || *m.TotalNodes != 2 {
		t.Errorf("metrics: %+v", m)
	}

	// Queue and priority.
	q := okY(alice.UpdateAppQueueWithResponse(ctx, id, yarn.AppQueue{Queue: "adhoc"}))(t).JSON200
	if q.Queue != "adhoc" {
		t.Errorf("move: %+v", q)
	}
	p := okY(alice.UpdateAppPriorityWithResponse(ctx, id, yarn.AppPriority{Priority: 5}))(t).JSON200
	if p.Priority != 5 {
		t.Errorf("priority: %+v", p)
	}

	// Kill: only KILLED; not by bob; 202 first, then KILLED.
	k, err := alice.UpdateAppStateWithResponse(ctx, id, yarn.AppState{State: yarn.AppStateValueRUNNING})
	wantYarnError(t, k, err, http.StatusBadRequest, "BadRequestException")
	k, err = cs["bob"].UpdateAppStateWithResponse(ctx, id, yarn.AppState{State: yarn.AppStateValueKILLED})
	wantYarnError(t, k, err, http.StatusForbidden, "ForbiddenException")
	k = okY(alice.UpdateAppStateWithResponse(ctx, id, yarn.AppState{State: yarn.AppStateValueKILLED}))(t)
	if k.StatusCode() != http.StatusAccepted || k.JSON202.State != yarn.AppStateValueRUNNING {
		t.Errorf("first kill: %s %+v", k.Status(), k.JSON202)
	}
	if st := okY(alice.GetAppStateWithResponse(ctx, id))(t).JSON200.State; st != yarn.AppStateValueKILLED {
		t.Errorf("state after the kill: %s", st)
	}
	k = okY(cs["yarn"].UpdateAppStateWithResponse(ctx, id, yarn.AppState{State: yarn.AppStateValueKILLED}))(t)
	if k.StatusCode() != http.StatusOK || k.JSON200.State != yarn.AppStateValueKILLED {
		t.Errorf("kill of a killed app: %s %+v", k.Status(), k.JSON200)
	}

	g, err := alice.GetAppWithResponse(ctx, "application_1_9999")
	wantYarnError(t, g, err, http.StatusNotFound, "NotFoundException")
	g, err = alice.GetAppWithResponse(ctx, "nonsense")
	if err != nil || g.StatusCode() != http.StatusBadRequest && g.StatusCode() != http.StatusNotFound {
		t.Errorf("a malformed id: %v %v", err, g.Status())
	}
	nodes := okY(alice.ListNodesWithResponse(ctx, nil))(t).JSON200.Nodes
	if nodes == nil || len(*nodes.Node) != 2 {
		t.Errorf("nodes: %+v", nodes)
	}
	n, err := alice.GetNodeWithResponse(ctx, "node9.lab:45454")
	wantYarnError(t, n, err, http.StatusNotFound, "NotFoundException")
	info := okY(alice.GetClusterInfoWithResponse(ctx))(t).JSON200.ClusterInfo
	if *info.State != "STARTED" || *info.HaState != "ACTIVE" {
		t.Errorf("info: %+v", info)
	}
	sched := okY(alice.GetSchedulerWithResponse(ctx))(t).JSON200.Scheduler.SchedulerInfo
	if (*sched)["type"] != "capacityScheduler" {
		t.Errorf("scheduler: %+v", sched)
	}
	// Without Kerberos there are no delegation token operations.
	dt, err := alice.CreateDelegationTokenWithResponse(ctx, yarn.DelegationToken{Renewer: new("alice")})
	wantYarnError(t, dt, err, http.StatusForbidden, "ForbiddenException")
}
