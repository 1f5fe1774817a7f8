package integration

import (
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/integration/internal/testcert"
	"github.com/krbhttp/krbhttp/sdk/yarn"
)

// startRM runs a secure ResourceManager on https://localhost:P with
// HTTP/localhost's key.
func startRM(t *testing.T) (*sdkServer, *restapis.ResourceManager, *testcert.CA) {
	t.Helper()
	ca, err := testcert.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	kt, err := credentials.LoadKeytab(env.httpKeytab)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := restapis.NewResourceManager(restapis.ResourceManagerConfig{Keytab: kt, Queues: []string{"default", "etl"}})
	if err != nil {
		t.Fatal(err)
	}
	s := listen(t, "https", "localhost")
	s.serveHadoop(t, ca, rm.Handler)
	return s, rm, ca
}

// yarnClient is a ResourceManager client trusting ca, as a new user with
// default auth options.
func yarnClient(t *testing.T, s *sdkServer, ca *testcert.CA) (*yarn.ClientWithResponses, string) {
	t.Helper()
	user, password := newUser(t)
	c, err := yarn.NewWithClient(s.URL, (&sdkLab{ca: ca}).client(t, auth.WithPrincipal(user), auth.WithPassword(password)))
	if err != nil {
		t.Fatal(err)
	}
	return c, user
}

func TestYARNThroughNegotiate(t *testing.T) {
	t.Parallel()
	s, rm, ca := startRM(t)
	c, user := yarnClient(t, s, ca)
	ctx := t.Context()
	na, err := c.NewApplicationWithResponse(ctx)
	check(t, "new-application", na, err)
	id := na.JSON200.ApplicationId
	sub, err := c.SubmitApplicationWithResponse(ctx, yarn.ApplicationSubmissionContext{
		ApplicationId: id, ApplicationName: new("nightly"), Queue: new("etl"),
		AmContainerSpec: yarn.ContainerLaunchContext{},
	})
	check(t, "submit", sub, err)
	if loc := sub.HTTPResponse.Header.Get("Location"); sub.StatusCode() != http.StatusAccepted || loc != "" && !strings.HasSuffix(loc, id) {
		t.Errorf("submit: %s, Location %q", sub.Status(), loc)
	}
	app, err := c.GetAppWithResponse(ctx, id)
	check(t, "GetApp", app, err)
	if a := app.JSON200.App; a.User != user || a.Queue != "etl" || a.State != yarn.AppStateValueRUNNING {
		t.Errorf("app %+v, want %s's running app in etl", a, user)
	}
	kill, err := c.UpdateAppStateWithResponse(ctx, id, yarn.AppState{State: yarn.AppStateValueKILLED})
	check(t, "kill", kill, err)
	st, err := c.GetAppStateWithResponse(ctx, id)
	check(t, "GetAppState", st, err)
	if st.JSON200.State != yarn.AppStateValueKILLED {
		t.Errorf("state after kill: %s", st.JSON200.State)
	}
	// Every request logs in with SPNEGO and gets a verified reply token
	// (the default client does not reuse the cookie): one service ticket.
	if s := rm.Stats(); s.SPNEGO != 5 || s.Challenges != 5 {
		t.Errorf("RM logins %+v, want a SPNEGO login per request", s)
	}
	if n, err := env.realm.TGSCount(user, "HTTP/localhost"); err != nil || n != 1 {
		t.Errorf("service tickets: %d (%v), want 1", n, err)
	}
}

func TestYARNDelegationToken(t *testing.T) {
	t.Parallel()
	s, _, ca := startRM(t)
	c, user := yarnClient(t, s, ca)
	ctx := t.Context()
	dt, err := c.CreateDelegationTokenWithResponse(ctx, yarn.DelegationToken{Renewer: &user})
	check(t, "CreateDelegationToken", dt, err)
	if *dt.JSON200.Owner != user+"@"+env.realm.Realm || *dt.JSON200.Kind != "RM_DELEGATION_TOKEN" {
		t.Errorf("token %+v", dt.JSON200)
	}
	token := *dt.JSON200.Token

	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}}}
	tc, err := yarn.NewWithDelegationToken(s.URL, token, plain)
	if err != nil {
		t.Fatal(err)
	}
	na, err := tc.NewApplicationWithResponse(ctx)
	check(t, "new-application with the token", na, err)
	sub, err := tc.SubmitApplicationWithResponse(ctx, yarn.ApplicationSubmissionContext{ApplicationId: na.JSON200.ApplicationId, AmContainerSpec: yarn.ContainerLaunchContext{}})
	check(t, "submit with the token", sub, err)
	apps, err := tc.ListAppsWithResponse(ctx, &yarn.ListAppsParams{User: &user})
	check(t, "ListApps with the token", apps, err)
	if apps.JSON200.Apps == nil || len(apps.JSON200.Apps.App) != 1 {
		t.Errorf("apps of %s: %+v", user, apps.JSON200.Apps)
	}
	// Token operations need Kerberos: a client with only the token is
	// challenged.
	rt, err := tc.RenewDelegationTokenWithResponse(ctx, &yarn.RenewDelegationTokenParams{HadoopYARNRMDelegationToken: token})
	if err != nil {
		t.Fatal(err)
	}
	var re *yarn.ResponseError
	if !errors.As(yarn.CheckResponse(rt), &re) || re.StatusCode != http.StatusUnauthorized {
		t.Errorf("renew with the token: %v, want 401", yarn.CheckResponse(rt))
	}
	rn, err := c.RenewDelegationTokenWithResponse(ctx, &yarn.RenewDelegationTokenParams{HadoopYARNRMDelegationToken: token})
	check(t, "RenewDelegationToken", rn, err)
	if exp := time.UnixMilli(*rn.JSON200.ExpirationTime); time.Until(exp) < 23*time.Hour {
		t.Errorf("renewed until %v", exp)
	}
	cl, err := c.CancelDelegationTokenWithResponse(ctx, &yarn.CancelDelegationTokenParams{HadoopYARNRMDelegationToken: token})
	check(t, "CancelDelegationToken", cl, err)
	after, err := tc.GetClusterInfoWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.StatusCode() != http.StatusForbidden || !strings.Contains(string(after.Body), "can&#39;t be found in cache") {
		t.Errorf("a cancelled token: %s %q, want 403", after.Status(), after.Body)
	}
}

// TestYARNCurlAgainstTheResourceManager checks the ResourceManager model
// against a client nobody here wrote: curl --negotiate.
func TestYARNCurlAgainstTheResourceManager(t *testing.T) {
	t.Parallel()
	kt, err := credentials.LoadKeytab(env.httpKeytab)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := restapis.NewResourceManager(restapis.ResourceManagerConfig{Keytab: kt})
	if err != nil {
		t.Fatal(err)
	}
	s := listen(t, "http", "localhost")
	s.serveHadoop(t, nil, rm.Handler)
	code, out, errOut := runTool(t, kinit(t, "alice"), "/usr/bin/curl", "-s", "-f", "--negotiate", "-u", ":",
		"-X", "POST", s.URL+"/ws/v1/cluster/apps/new-application")
	if code != 0 || !strings.Contains(out, `"application-id":"application_`) {
		t.Fatalf("curl: exit %d, %q, %q", code, out, errOut)
	}
	if s := rm.Stats(); s.SPNEGO != 1 {
		t.Errorf("stats %+v", s)
	}
}
