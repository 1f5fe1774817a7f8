package restapis

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/acceptor"
)

// YARNPrefix is where the ResourceManager's REST API starts.
const YARNPrefix = "/ws/v1/cluster"

// ResourceManagerConfig configures [NewResourceManager].
type ResourceManagerConfig struct {
	// Keytab holds the ResourceManager's HTTP/<host> keys: with it the
	// cluster is secure (SPNEGO, delegation tokens); without it security is
	// off (user.name).
	Keytab *keytab.Keytab
	// Queues are the scheduler's leaf queues (default "default").
	Queues []string
	// ACLs turns yarn.acl.enable on: then only an application's owner and
	// the Admins may kill or move it.
	ACLs   bool
	Admins []string
	// TokenRenewInterval and TokenMaxLifetime are the delegation token
	// lifetimes (defaults 24 hours and 7 days).
	TokenRenewInterval, TokenMaxLifetime time.Duration
	// ReplayStore is the ResourceManager's replay cache (nil: one in
	// memory of its own).
	ReplayStore acceptor.ReplayStore
}

// ResourceManager is an in-memory YARN ResourceManager's REST API, as
// Hadoop 3's RMWebServices answers it, behind hadoop-auth's filter (SPNEGO
// per request, the hadoop.auth cookie) with ResourceManager delegation
// tokens in the Hadoop-YARN-RM-Delegation-Token header. Two NodeManagers
// of 8 GB and 8 cores run the applications; a submitted application is
// accepted and runs at once, with its ApplicationMaster on the first node;
// a kill is accepted (202) and done by the next look at the application.
// Delegation token operations take the token to renew or cancel from that
// header and need a Kerberos-authenticated request (SPNEGO or the cookie),
// as ResourceManagerRest.md describes them. (Hadoop's filter reads that
// header as an authentication token on those paths too, and the
// operation then refuses the request with 403 unless the hadoop.auth
// cookie of an earlier Kerberos login came with it, as Hadoop's
// AuthenticatedURL sends it; this model leaves the header to the
// operation and challenges a request without Kerberos.)
type ResourceManager struct {
	Handler http.Handler

	auth *hadoopAuth
	rm   *resourceManager
}

// Stats reports how the filter authenticated requests.
func (r *ResourceManager) Stats() AuthStats { return r.auth.counts.stats() }

// NewResourceManager returns the ResourceManager's handler; mount it at
// the root.
func NewResourceManager(cfg ResourceManagerConfig) (*ResourceManager, error) {
	if len(cfg.Queues) == 0 {
		cfg.Queues = []string{"default"}
	}
	started := time.Now()
	rm := &resourceManager{
		cfg: cfg, secure: cfg.Keytab != nil, started: started.UnixMilli(),
		apps:   map[string]*yarnApp{},
		tokens: newSecretManager("RM_DELEGATION_TOKEN", cfg.TokenRenewInterval, cfg.TokenMaxLifetime, nil),
	}
	bypass := func(r *http.Request) bool {
		return r.Header.Get(yarnTokenHeader) != "" && !strings.HasPrefix(r.URL.Path, YARNPrefix+"/delegation-token")
	}
	auth, err := newHadoopAuth(cfg.Keytab, nil, bypass, cfg.ReplayStore)
	if err != nil {
		return nil, err
	}
	rm.auth = auth
	return &ResourceManager{Handler: auth.wrap(http.HandlerFunc(rm.serveHTTP)), auth: auth, rm: rm}, nil
}

const yarnTokenHeader = "Hadoop-YARN-RM-Delegation-Token"

// yarnApp is an application.
type yarnApp struct {
	ID, User, Name, Queue, State, FinalStatus, Type, Diagnostics string
	Tags                                                         []string
	Priority                                                     int32
	MemoryMB                                                     int64
	VCores                                                       int32
	Started, Finished                                            int64
	killing                                                      bool
}

type resourceManager struct {
	cfg     ResourceManagerConfig
	secure  bool
	started int64
	auth    *hadoopAuth
	tokens  *secretManager

	mu       sync.Mutex
	apps     map[string]*yarnApp
	reserved []string // ids given by new-application, not yet submitted
	seq      int
}

// yarnError is a RemoteException of the ResourceManager's web services.
type yarnError struct {
	status              int
	exception, javaName string
	msg                 string
}

func yarnErr(status int, exception, format string, args ...any) *yarnError {
	javaName := map[string]string{
		"NotFoundException":      "org.apache.hadoop.yarn.webapp.NotFoundException",
		"BadRequestException":    "org.apache.hadoop.yarn.webapp.BadRequestException",
		"ForbiddenException":     "org.apache.hadoop.yarn.webapp.ForbiddenException",
		"AuthorizationException": "org.apache.hadoop.security.authorize.AuthorizationException",
	}[exception]
	return &yarnError{status: status, exception: exception, javaName: javaName, msg: fmt.Sprintf(format, args...)}
}

var (
	appIDExpr   = regexp.MustCompile(`^application_([0-9]+)_([0-9]+)$`)
	appStates   = []string{"NEW", "NEW_SAVING", "SUBMITTED", "ACCEPTED", "RUNNING", "FINISHED", "FAILED", "KILLED"}
	finalStates = []string{"FINISHED", "FAILED", "KILLED"}
)

// rmNodes are the cluster's NodeManagers.
var rmNodes = []string{"node1.lab:45454", "node2.lab:45454"}

const (
	nodeMemoryMB = 8192
	nodeVCores   = 8
)

func (rm *resourceManager) serveHTTP(w http.ResponseWriter, r *http.Request) {
	user, authErr := rm.user(r)
	if authErr != "" {
		jettyError(w, r, http.StatusForbidden, authErr)
		return
	}
	rm.mu.Lock()
	status, body, err := rm.serve(r, user)
	rm.mu.Unlock()
	switch {
	case err != nil:
		writeJSON(w, err.status, "application/json", map[string]any{"RemoteException": map[string]string{
			"exception": err.exception, "message": err.msg, "javaClassName": err.javaName,
		}})
	case body == nil:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, "application/json", body)
	}
}

// user is who the request runs as: the delegation token's owner, or the
// filter's user.
func (rm *resourceManager) user(r *http.Request) (*HadoopUser, string) {
	if tok := r.Header.Get(yarnTokenHeader); tok != "" && !strings.HasPrefix(r.URL.Path, YARNPrefix+"/delegation-token") {
		id, err := rm.tokens.verify(tok)
		if err != nil {
			return nil, "org.apache.hadoop.security.authentication.client.AuthenticationException: " + javaError(err)
		}
		return &HadoopUser{Name: shortNameOf(id.owner), Principal: id.owner, Via: "token"}, ""
	}
	if u, ok := HadoopUserFromContext(r.Context()); ok {
		return u, ""
	}
	return &HadoopUser{}, ""
}

func (rm *resourceManager) serve(r *http.Request, user *HadoopUser) (int, any, *yarnError) {
	rest, ok := strings.CutPrefix(r.URL.Path, YARNPrefix)
	if !ok {
		return 0, nil, yarnErr(http.StatusNotFound, "NotFoundException", "java.lang.Exception: %s not found", r.URL.Path)
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	route := r.Method + " " + strings.Join(parts, "/")
	switch {
	case route == "GET info" || route == "GET ":
		return http.StatusOK, map[string]any{"clusterInfo": map[string]any{
			"id": rm.started, "startedOn": rm.started, "state": "STARTED", "haState": "ACTIVE",
			"rmStateStoreName":       "org.apache.hadoop.yarn.server.resourcemanager.recovery.NullRMStateStore",
			"resourceManagerVersion": "3.3.6", "hadoopVersion": "3.3.6", "haZooKeeperConnectionState": "ResourceManager HA is not enabled.",
		}}, nil
	case route == "GET metrics":
		return http.StatusOK, map[string]any{"clusterMetrics": rm.metrics()}, nil
	case route == "GET scheduler":
		return http.StatusOK, map[string]any{"scheduler": map[string]any{"schedulerInfo": rm.scheduler()}}, nil
	case route == "GET apps":
		return rm.listApps(r)
	case route == "POST apps/new-application":
		rm.seq++
		id := fmt.Sprintf("application_%d_%04d", rm.started, rm.seq)
		rm.reserved = append(rm.reserved, id)
		return http.StatusOK, map[string]any{"application-id": id,
			"maximum-resource-capability": map[string]any{"memory": nodeMemoryMB, "vCores": nodeVCores}}, nil
	case route == "POST apps":
		return rm.submit(r, user)
	case route == "GET appstatistics":
		return rm.statistics(r)
	case route == "GET nodes":
		var nodes []any
		for _, id := range rmNodes {
			nodes = append(nodes, rm.node(id))
		}
		return http.StatusOK, map[string]any{"nodes": map[string]any{"node": nodes}}, nil
	case len(parts) == 2 && r.Method == http.MethodGet && parts[0] == "nodes":
		if !slices.Contains(rmNodes, parts[1]) {
			return 0, nil, yarnErr(http.StatusNotFound, "NotFoundException", "java.lang.Exception: nodeId, %s, is not found", parts[1])
		}
		return http.StatusOK, map[string]any{"node": rm.node(parts[1])}, nil
	case parts[0] == "delegation-token":
		return rm.delegationToken(r, user, route)
	case parts[0] == "apps" && len(parts) >= 2:
		return rm.app(r, user, parts[1], strings.Join(parts[2:], "/"))
	}
	return 0, nil, yarnErr(http.StatusNotFound, "NotFoundException", "java.lang.Exception: %s not found", r.URL.Path)
}

// settle finishes kills under way, as the ResourceManager does shortly
// after accepting them; rm.mu must be held.
func (rm *resourceManager) settle(a *yarnApp) {
	if a.killing {
		a.killing, a.State, a.FinalStatus = false, "KILLED", "KILLED"
		a.Finished = time.Now().UnixMilli()
		a.Diagnostics = "Application killed by user."
	}
}

func (rm *resourceManager) appJSON(a *yarnApp) map[string]any {
	rm.settle(a)
	running := a.State == "RUNNING"
	m := map[string]any{
		"id": a.ID, "user": a.User, "name": a.Name, "queue": a.Queue, "state": a.State, "finalStatus": a.FinalStatus,
		"progress": 0, "trackingUI": "UNASSIGNED", "diagnostics": a.Diagnostics, "clusterId": rm.started,
		"applicationType": a.Type, "applicationTags": strings.Join(a.Tags, ","), "priority": a.Priority,
		"startedTime": a.Started, "launchTime": a.Started, "finishedTime": a.Finished, "unmanagedApplication": false,
		"allocatedMB": -1, "allocatedVCores": -1, "runningContainers": -1, "logAggregationStatus": "DISABLED",
	}
	end := a.Finished
	if end == 0 {
		end = time.Now().UnixMilli()
	}
	m["elapsedTime"] = end - a.Started
	if running {
		m["trackingUI"] = "ApplicationMaster"
		m["trackingUrl"] = "http://rm.lab:8088/proxy/" + a.ID + "/"
		m["amHostHttpAddress"] = "node1.lab:8042"
		m["amContainerLogs"] = "http://node1.lab:8042/node/containerlogs/" + containerID(a) + "/" + a.User
		m["allocatedMB"], m["allocatedVCores"], m["runningContainers"] = a.MemoryMB, a.VCores, 1
	}
	return m
}

func containerID(a *yarnApp) string {
	m := appIDExpr.FindStringSubmatch(a.ID)
	return fmt.Sprintf("container_%s_%s_01_000001", m[1], m[2])
}

func (rm *resourceManager) listApps(r *http.Request) (int, any, *yarnError) {
	q := r.URL.Query()
	var states []string
	for s := range strings.SplitSeq(q.Get("states"), ",") {
		if s = strings.ToUpper(strings.TrimSpace(s)); s == "" {
			continue
		}
		if !slices.Contains(appStates, s) {
			return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException",
				"java.lang.Exception: Invalid application-state %s specified. It should be one of %s", s, strings.Join(appStates, ", "))
		}
		states = append(states, s)
	}
	num := func(name string, def int64) (int64, *yarnError) {
		v := q.Get(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: %s must be greater than 0", name)
		}
		return n, nil
	}
	limit, err := num("limit", 1<<62)
	if err != nil {
		return 0, nil, err
	}
	bounds := map[string]int64{}
	for _, name := range []string{"startedTimeBegin", "startedTimeEnd", "finishedTimeBegin", "finishedTimeEnd"} {
		def := int64(0)
		if strings.HasSuffix(name, "End") {
			def = 1 << 62
		}
		if bounds[name], err = num(name, def); err != nil {
			return 0, nil, err
		}
	}
	types := strings.Split(strings.ToLower(q.Get("applicationTypes")), ",")
	tags := strings.Split(strings.ToLower(q.Get("applicationTags")), ",")
	var ids []string
	for id := range rm.apps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []any
	for _, id := range ids {
		a := rm.apps[id]
		rm.settle(a)
		switch {
		case len(states) > 0 && !slices.Contains(states, a.State),
			q.Get("finalStatus") != "" && !strings.EqualFold(q.Get("finalStatus"), a.FinalStatus),
			q.Get("user") != "" && q.Get("user") != a.User,
			q.Get("queue") != "" && q.Get("queue") != a.Queue,
			q.Get("name") != "" && q.Get("name") != a.Name,
			q.Get("applicationTypes") != "" && !slices.Contains(types, strings.ToLower(a.Type)),
			q.Get("applicationTags") != "" && !slices.ContainsFunc(a.Tags, func(t string) bool { return slices.Contains(tags, strings.ToLower(t)) }),
			a.Started < bounds["startedTimeBegin"] || a.Started > bounds["startedTimeEnd"],
			a.Finished < bounds["finishedTimeBegin"] || a.Finished > bounds["finishedTimeEnd"],
			int64(len(out)) >= limit:
			continue
		}
		out = append(out, rm.appJSON(a))
	}
	if len(out) == 0 {
		// Jersey writes an empty collection as null.
		return http.StatusOK, map[string]any{"apps": nil}, nil
	}
	return http.StatusOK, map[string]any{"apps": map[string]any{"app": out}}, nil
}

func (rm *resourceManager) submit(r *http.Request, user *HadoopUser) (int, any, *yarnError) {
	var in struct {
		ID       string `json:"application-id"`
		Name     string `json:"application-name"`
		Queue    string `json:"queue"`
		Priority int32  `json:"priority"`
		Type     string `json:"application-type"`
		Spec     *struct {
			Commands struct {
				Command string `json:"command"`
			} `json:"commands"`
		} `json:"am-container-spec"`
		Resource struct {
			Memory int64 `json:"memory"`
			VCores int32 `json:"vCores"`
		} `json:"resource"`
		Tags struct {
			Tag []string `json:"tag"`
		} `json:"application-tags"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: %v", err)
	}
	if user.Name == "" {
		return 0, nil, yarnErr(http.StatusForbidden, "AuthorizationException", "Unable to obtain user name, user not authenticated")
	}
	switch {
	case rm.apps[in.ID] != nil:
		return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException",
			"java.lang.Exception: Application with id '%s' is already present! Cannot add a duplicate!", in.ID)
	case !slices.Contains(rm.reserved, in.ID):
		return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: Invalid ApplicationId: %s", in.ID)
	case in.Spec == nil:
		return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: am-container-spec is required")
	case in.Resource.Memory > nodeMemoryMB || in.Resource.VCores > nodeVCores:
		return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException",
			"java.lang.Exception: Invalid resource request, requested resource is larger than the maximum allowed allocation")
	}
	rm.reserved = slices.DeleteFunc(rm.reserved, func(id string) bool { return id == in.ID })
	a := &yarnApp{
		ID: in.ID, User: user.Name, Name: in.Name, Queue: in.Queue, Type: in.Type, Tags: in.Tags.Tag,
		Priority: in.Priority, MemoryMB: max(in.Resource.Memory, 1024), VCores: max(in.Resource.VCores, 1),
		State: "RUNNING", FinalStatus: "UNDEFINED", Started: time.Now().UnixMilli(),
	}
	if a.Name == "" {
		a.Name = "N/A"
	}
	if a.Type == "" {
		a.Type = "YARN"
	}
	if a.Queue == "" {
		a.Queue = rm.cfg.Queues[0]
	}
	if !slices.Contains(rm.cfg.Queues, a.Queue) {
		// Accepted, then rejected by the scheduler.
		a.State, a.FinalStatus, a.Finished = "FAILED", "FAILED", a.Started
		a.Diagnostics = fmt.Sprintf("Application %s submitted by user %s to unknown queue: %s", a.ID, a.User, a.Queue)
	}
	rm.apps[a.ID] = a
	return http.StatusAccepted, nil, nil
}

// app serves /apps/{id}[/what].
func (rm *resourceManager) app(r *http.Request, user *HadoopUser, id, what string) (int, any, *yarnError) {
	if !appIDExpr.MatchString(id) {
		return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: Invalid ApplicationId: %s", id)
	}
	a := rm.apps[id]
	if a == nil {
		return 0, nil, yarnErr(http.StatusNotFound, "NotFoundException", "java.lang.Exception: app with id: %s not found", id)
	}
	switch r.Method + " " + what {
	case "GET ":
		return http.StatusOK, map[string]any{"app": rm.appJSON(a)}, nil
	case "GET appattempts":
		attempt := map[string]any{
			"id": 1, "startTime": a.Started, "finishedTime": a.Finished, "containerId": containerID(a),
			"nodeHttpAddress": "node1.lab:8042", "nodeId": rmNodes[0],
			"logsLink":     "http://node1.lab:8042/node/containerlogs/" + containerID(a) + "/" + a.User,
			"appAttemptId": strings.Replace(id, "application_", "appattempt_", 1) + "_000001",
		}
		return http.StatusOK, map[string]any{"appAttempts": map[string]any{"appAttempt": []any{attempt}}}, nil
	case "GET state":
		rm.settle(a)
		return http.StatusOK, map[string]string{"state": a.State}, nil
	case "GET queue":
		return http.StatusOK, map[string]string{"queue": a.Queue}, nil
	case "GET priority":
		return http.StatusOK, map[string]int32{"priority": a.Priority}, nil
	case "PUT state", "PUT queue", "PUT priority":
		if err := rm.mayModify(user, a); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, yarnErr(http.StatusNotFound, "NotFoundException", "java.lang.Exception: %s not found", r.URL.Path)
	}
	var in struct {
		State    string `json:"state"`
		Queue    string `json:"queue"`
		Priority *int32 `json:"priority"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: %v", err)
	}
	switch what {
	case "state":
		if in.State != "KILLED" {
			return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: Only 'KILLED' is allowed as a target state.")
		}
		rm.settle(a)
		if slices.Contains(finalStates, a.State) {
			return http.StatusOK, map[string]string{"state": a.State}, nil
		}
		a.killing = true
		return http.StatusAccepted, map[string]string{"state": a.State}, nil
	case "queue":
		if !slices.Contains(rm.cfg.Queues, in.Queue) {
			return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: Failed to move app: queue %s not found", in.Queue)
		}
		a.Queue = in.Queue
		return http.StatusOK, map[string]string{"queue": a.Queue}, nil
	}
	if in.Priority == nil {
		return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: Priority cannot be null")
	}
	a.Priority = min(max(*in.Priority, 0), 10) // yarn.cluster.max-application-priority
	return http.StatusOK, map[string]int32{"priority": a.Priority}, nil
}

// mayModify is the MODIFY_APP check: with ACLs on, the owner or an
// administrator.
func (rm *resourceManager) mayModify(user *HadoopUser, a *yarnApp) *yarnError {
	if user.Name == "" {
		return yarnErr(http.StatusForbidden, "AuthorizationException", "Unable to obtain user name, user not authenticated")
	}
	if rm.cfg.ACLs && user.Name != a.User && !slices.Contains(rm.cfg.Admins, user.Name) {
		return yarnErr(http.StatusForbidden, "ForbiddenException",
			"java.lang.Exception: Unauthorized attempt to modify appid %s by remote user %s", a.ID, user.Name)
	}
	return nil
}

func (rm *resourceManager) metrics() map[string]any {
	counts := map[string]int{}
	var mb int64
	var cores int32
	for _, a := range rm.apps {
		rm.settle(a)
		counts[a.State]++
		if a.State == "RUNNING" {
			mb += a.MemoryMB
			cores += a.VCores
		}
	}
	total := int64(len(rmNodes) * nodeMemoryMB)
	totalCores := int32(len(rmNodes) * nodeVCores)
	return map[string]any{
		"appsSubmitted": len(rm.apps), "appsCompleted": counts["FINISHED"] + counts["FAILED"] + counts["KILLED"],
		"appsPending": counts["ACCEPTED"], "appsRunning": counts["RUNNING"], "appsFailed": counts["FAILED"], "appsKilled": counts["KILLED"],
		"reservedMB": 0, "availableMB": total - mb, "allocatedMB": mb, "totalMB": total,
		"reservedVirtualCores": 0, "availableVirtualCores": totalCores - cores, "allocatedVirtualCores": cores, "totalVirtualCores": totalCores,
		"containersAllocated": counts["RUNNING"], "containersReserved": 0, "containersPending": 0,
		"totalNodes": len(rmNodes), "activeNodes": len(rmNodes), "lostNodes": 0, "unhealthyNodes": 0,
		"decommissioningNodes": 0, "decommissionedNodes": 0, "rebootedNodes": 0, "shutdownNodes": 0,
	}
}

func (rm *resourceManager) scheduler() map[string]any {
	var queues []any
	for _, q := range rm.cfg.Queues {
		var used int64
		for _, a := range rm.apps {
			if a.Queue == q && a.State == "RUNNING" {
				used += a.MemoryMB
			}
		}
		queues = append(queues, map[string]any{
			"type": "capacitySchedulerLeafQueueInfo", "queueName": q, "queuePath": "root." + q,
			"capacity": 100.0 / float64(len(rm.cfg.Queues)), "maxCapacity": 100.0,
			"usedCapacity": float64(used) * 100 / float64(len(rmNodes)*nodeMemoryMB), "state": "RUNNING",
		})
	}
	return map[string]any{
		"type": "capacityScheduler", "queueName": "root", "capacity": 100.0, "maxCapacity": 100.0,
		"usedCapacity": 0.0, "queues": map[string]any{"queue": queues},
	}
}

func (rm *resourceManager) statistics(r *http.Request) (int, any, *yarnError) {
	q := r.URL.Query()
	states := appStates
	if s := q.Get("states"); s != "" {
		states = nil
		for st := range strings.SplitSeq(strings.ToUpper(s), ",") {
			if !slices.Contains(appStates, st) {
				return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: Invalid application-state %s", st)
			}
			states = append(states, st)
		}
	}
	typ := strings.ToLower(q.Get("applicationTypes"))
	if strings.Contains(typ, ",") {
		return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: # of applicationTypes = 2, we temporarily support at most one applicationType")
	}
	var items []any
	for _, st := range states {
		n := 0
		for _, a := range rm.apps {
			rm.settle(a)
			if a.State == st && (typ == "" || strings.ToLower(a.Type) == typ) {
				n++
			}
		}
		label := "*"
		if typ != "" {
			label = typ
		}
		items = append(items, map[string]any{"state": st, "type": label, "count": n})
	}
	return http.StatusOK, map[string]any{"appStatInfo": map[string]any{"statItem": items}}, nil
}

func (rm *resourceManager) node(id string) map[string]any {
	host, _, _ := strings.Cut(id, ":")
	var mb int64
	var cores, containers int32
	if id == rmNodes[0] {
		for _, a := range rm.apps {
			rm.settle(a)
			if a.State == "RUNNING" {
				mb, cores, containers = mb+a.MemoryMB, cores+a.VCores, containers+1
			}
		}
	}
	return map[string]any{
		"rack": "/default-rack", "state": "RUNNING", "id": id, "nodeHostName": host, "nodeHTTPAddress": host + ":8042",
		"healthStatus": "Healthy", "healthReport": "", "lastHealthUpdate": time.Now().UnixMilli(), "version": "3.3.6",
		"numContainers": containers, "usedMemoryMB": mb, "availMemoryMB": nodeMemoryMB - mb,
		"usedVirtualCores": cores, "availableVirtualCores": nodeVCores - cores,
	}
}

// delegationToken serves the delegation token operations, which need a
// Kerberos-authenticated request; renew and cancel name the token in the
// header.
func (rm *resourceManager) delegationToken(r *http.Request, user *HadoopUser, route string) (int, any, *yarnError) {
	if user.Via != "spnego" && user.Via != "cookie" {
		return 0, nil, yarnErr(http.StatusForbidden, "ForbiddenException",
			"java.lang.Exception: Delegation token operations can only be carried out on a Kerberos authenticated channel. Expected auth type is kerberos, got type %s", user.Via)
	}
	tokenJSON := func(tok string) map[string]any {
		_, id, _ := rm.tokens.parse(tok)
		rm.tokens.mu.Lock()
		renewDate := rm.tokens.tokens[string(mustIdentifier(tok))]
		rm.tokens.mu.Unlock()
		return map[string]any{"token": tok, "renewer": id.renewer, "owner": id.owner, "kind": "RM_DELEGATION_TOKEN",
			"expiration-time": renewDate, "max-validity": id.maxDate}
	}
	header := r.Header.Get(yarnTokenHeader)
	switch route {
	case "POST delegation-token":
		var in struct {
			Renewer string `json:"renewer"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Renewer == "" {
			return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: Renewer must be specified")
		}
		tok := rm.tokens.create(user.Principal, in.Renewer, "", "RM_DELEGATION_TOKEN", "")
		return http.StatusOK, tokenJSON(tok), nil
	case "POST delegation-token/expiration":
		if header == "" {
			return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: Header '%s' containing encoded token not found", yarnTokenHeader)
		}
		expiry, err := rm.tokens.renew(header, user.Name)
		if err != nil {
			return 0, nil, yarnErr(http.StatusForbidden, "ForbiddenException", "%s", javaError(err))
		}
		return http.StatusOK, map[string]int64{"expiration-time": expiry}, nil
	case "DELETE delegation-token":
		if header == "" {
			return 0, nil, yarnErr(http.StatusBadRequest, "BadRequestException", "java.lang.Exception: Header '%s' containing encoded token not found", yarnTokenHeader)
		}
		if err := rm.tokens.cancel(header, user.Principal, user.Name); err != nil {
			return 0, nil, yarnErr(http.StatusForbidden, "ForbiddenException", "%s", javaError(err))
		}
		return http.StatusOK, nil, nil
	}
	return 0, nil, yarnErr(http.StatusNotFound, "NotFoundException", "java.lang.Exception: %s not found", r.URL.Path)
}

func mustIdentifier(tok string) []byte {
	t, err := decodeToken(tok)
	if err != nil {
		return nil
	}
	return t.identifier
}
