package restapis_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/sdk/webhdfs"
)

// users is a lab with clients acting as several users.
type users struct {
	lab *hdfsLab
	c   map[string]*webhdfs.ClientWithResponses
}

func newUsers(t *testing.T, cfg restapis.WebHDFSConfig, names ...string) *users {
	t.Helper()
	u := &users{lab: newHDFSLab(t, cfg), c: map[string]*webhdfs.ClientWithResponses{}}
	for _, name := range append(names, "hdfs") {
		u.c[name] = u.lab.client(t, name)
	}
	return u
}

func (u *users) put(t *testing.T, who, p string, params webhdfs.PutParams, body string) (*webhdfs.PutResponse, error) {
	t.Helper()
	if body == "" && params.Op != webhdfs.PutOpCREATE {
		return u.c[who].PutWithBodyWithResponse(t.Context(), p, &params, "", nil)
	}
	return u.c[who].PutWithBodyWithResponse(t.Context(), p, &params, "application/octet-stream", strings.NewReader(body))
}

func (u *users) get(t *testing.T, who, p string, params webhdfs.GetParams) (*webhdfs.GetResponse, error) {
	t.Helper()
	return u.c[who].GetWithResponse(t.Context(), p, &params)
}

func TestWebHDFSPermissions(t *testing.T) {
	t.Parallel()
	u := newUsers(t, restapis.WebHDFSConfig{Groups: map[string][]string{"carla": {"analysts"}}}, "alice", "bob", "carla")
	ok(u.put(t, "hdfs", "data", webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS, Permission: new("750")}, ""))(t)
	ok(u.put(t, "hdfs", "data", webhdfs.PutParams{Op: webhdfs.PutOpSETOWNER, Group: new("analysts")}, ""))(t)

	// alice is "other" on /data: no traverse.
	r, err := u.put(t, "alice", "data/x", webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS}, "")
	wantException(t, r, err, http.StatusForbidden, "AccessControlException")
	if msg := r.JSONDefault.RemoteException.Message; msg != `Permission denied: user=alice, access=EXECUTE, inode="/data":hdfs:analysts:drwxr-x---` {
		t.Errorf("message %q", msg)
	}
	// carla is in the group: read and traverse, no write.
	ok(u.get(t, "carla", "data", webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS}))(t)
	r, err = u.put(t, "carla", "data/y", webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS}, "")
	wantException(t, r, err, http.StatusForbidden, "AccessControlException")
	ok(u.get(t, "carla", "data", webhdfs.GetParams{Op: webhdfs.GetOpCHECKACCESS, Fsaction: new("r-x")}))(t)
	g, err := u.get(t, "carla", "data", webhdfs.GetParams{Op: webhdfs.GetOpCHECKACCESS, Fsaction: new("rwx")})
	wantException(t, g, err, http.StatusForbidden, "AccessControlException")

	// /tmp has the sticky bit: only the owner removes an entry.
	ok(u.put(t, "alice", "tmp/a.txt", webhdfs.PutParams{Op: webhdfs.PutOpCREATE, Permission: new("666")}, "a"))(t)
	d, err := u.c["bob"].DeleteWithResponse(t.Context(), "tmp/a.txt", &webhdfs.DeleteParams{Op: webhdfs.DeleteOpDELETE})
	wantException(t, d, err, http.StatusForbidden, "AccessControlException")
	if !strings.HasPrefix(d.JSONDefault.RemoteException.Message, "Permission denied by sticky bit: user=bob") {
		t.Errorf("sticky bit message %q", d.JSONDefault.RemoteException.Message)
	}
	// Ownership and permission changes.
	r, err = u.put(t, "alice", "tmp/a.txt", webhdfs.PutParams{Op: webhdfs.PutOpSETOWNER, Owner: new("bob")}, "")
	wantException(t, r, err, http.StatusForbidden, "AccessControlException")
	r, err = u.put(t, "bob", "tmp/a.txt", webhdfs.PutParams{Op: webhdfs.PutOpSETPERMISSION, Permission: new("777")}, "")
	wantException(t, r, err, http.StatusForbidden, "AccessControlException")
	ok(u.put(t, "alice", "tmp/a.txt", webhdfs.PutParams{Op: webhdfs.PutOpSETPERMISSION, Permission: new("600")}, ""))(t)
	ok(u.put(t, "alice", "tmp/a.txt", webhdfs.PutParams{Op: webhdfs.PutOpSETTIMES, Modificationtime: new(int64(1_000_000))}, ""))(t)
	st := ok(u.get(t, "alice", "tmp/a.txt", webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS}))(t).JSON200.FileStatus
	if st.Permission != "600" || st.ModificationTime != 1_000_000 || st.Owner != "alice" {
		t.Errorf("after SETPERMISSION and SETTIMES: %+v", st)
	}
	g, err = u.get(t, "bob", "tmp/a.txt", webhdfs.GetParams{Op: webhdfs.GetOpOPEN})
	wantException(t, g, err, http.StatusForbidden, "AccessControlException")
	ok(u.put(t, "hdfs", "tmp/a.txt", webhdfs.PutParams{Op: webhdfs.PutOpSETOWNER, Owner: new("bob")}, ""))(t)
	if got := ok(u.get(t, "bob", "tmp/a.txt", webhdfs.GetParams{Op: webhdfs.GetOpOPEN}))(t).Body; string(got) != "a" {
		t.Errorf("bob reads %q after becoming the owner", got)
	}
	sr := ok(u.put(t, "bob", "tmp/a.txt", webhdfs.PutParams{Op: webhdfs.PutOpSETREPLICATION, Replication: new(int32(2))}, ""))(t)
	if sr.JSON200 == nil || !sr.JSON200.Boolean {
		t.Errorf("SETREPLICATION: %+v", sr.JSON200)
	}
	sr = ok(u.put(t, "hdfs", "tmp", webhdfs.PutParams{Op: webhdfs.PutOpSETREPLICATION, Replication: new(int32(2))}, ""))(t)
	if sr.JSON200.Boolean {
		t.Error("SETREPLICATION of a directory answered true")
	}
}

func TestWebHDFSACLs(t *testing.T) {
	t.Parallel()
	u := newUsers(t, restapis.WebHDFSConfig{}, "alice", "bob")
	ok(u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS, Permission: new("700")}, ""))(t)
	g, err := u.get(t, "bob", "tmp/a", webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS})
	wantException(t, g, err, http.StatusForbidden, "AccessControlException")

	ok(u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpMODIFYACLENTRIES, Aclspec: new("user:bob:r-x")}, ""))(t)
	ok(u.get(t, "bob", "tmp/a", webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS}))(t)
	acl := ok(u.get(t, "alice", "tmp/a", webhdfs.GetParams{Op: webhdfs.GetOpGETACLSTATUS}))(t).JSON200.AclStatus
	if acl == nil || strings.Join(acl.Entries, ",") != "user:bob:r-x,group::---" || *acl.Permission != "750" || acl.Owner != "alice" {
		t.Fatalf("GETACLSTATUS: %+v", acl)
	}
	st := ok(u.get(t, "alice", "tmp/a", webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS}))(t).JSON200.FileStatus
	if st.AclBit == nil || !*st.AclBit {
		t.Errorf("aclBit not set: %+v", st)
	}
	// The mask limits named entries.
	ok(u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpSETPERMISSION, Permission: new("700")}, ""))(t)
	g, err = u.get(t, "bob", "tmp/a", webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS})
	wantException(t, g, err, http.StatusForbidden, "AccessControlException")

	ok(u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpSETACL,
		Aclspec: new("user::rwx,group::r--,other::---,default:user:bob:rwx")}, ""))(t)
	acl = ok(u.get(t, "alice", "tmp/a", webhdfs.GetParams{Op: webhdfs.GetOpGETACLSTATUS}))(t).JSON200.AclStatus
	want := "default:user::rwx,default:user:bob:rwx,default:group::r--,default:mask::rwx,default:other::---"
	if strings.Join(acl.Entries, ",") != want || *acl.Permission != "740" {
		t.Errorf("after SETACL: %v %s, want %s 740", acl.Entries, *acl.Permission, want)
	}
	ok(u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpREMOVEDEFAULTACL}, ""))(t)
	ok(u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpMODIFYACLENTRIES, Aclspec: new("user:bob:rwx,group:staff:r--")}, ""))(t)
	ok(u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpREMOVEACLENTRIES, Aclspec: new("group:staff")}, ""))(t)
	acl = ok(u.get(t, "alice", "tmp/a", webhdfs.GetParams{Op: webhdfs.GetOpGETACLSTATUS}))(t).JSON200.AclStatus
	if strings.Join(acl.Entries, ",") != "user:bob:rwx,group::r--" {
		t.Errorf("after MODIFYACLENTRIES and REMOVEACLENTRIES: %v", acl.Entries)
	}
	ok(u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpREMOVEACL}, ""))(t)
	acl = ok(u.get(t, "alice", "tmp/a", webhdfs.GetParams{Op: webhdfs.GetOpGETACLSTATUS}))(t).JSON200.AclStatus
	if len(acl.Entries) != 0 || *acl.Permission != "740" {
		t.Errorf("after REMOVEACL: %v %s", acl.Entries, *acl.Permission)
	}
	// Only the owner changes the ACL; a malformed spec is a bad request;
	// an ACL without its base entries is refused.
	r, err := u.put(t, "bob", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpMODIFYACLENTRIES, Aclspec: new("user:bob:rwx")}, "")
	wantException(t, r, err, http.StatusForbidden, "AccessControlException")
	r, err = u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpSETACL, Aclspec: new("user:bob:rwz")}, "")
	wantException(t, r, err, http.StatusBadRequest, "IllegalArgumentException")
	r, err = u.put(t, "alice", "tmp/a", webhdfs.PutParams{Op: webhdfs.PutOpSETACL, Aclspec: new("user:bob:rwx")}, "")
	wantException(t, r, err, http.StatusForbidden, "AclException")
}

func TestWebHDFSXAttrs(t *testing.T) {
	t.Parallel()
	u := newUsers(t, restapis.WebHDFSConfig{}, "alice")
	ok(u.put(t, "alice", "tmp/f", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "x"))(t)
	set := func(name, value string, flag webhdfs.PutParamsFlag) (*webhdfs.PutResponse, error) {
		return u.put(t, "alice", "tmp/f", webhdfs.PutParams{Op: webhdfs.PutOpSETXATTR, XattrName: &name, XattrValue: &value, Flag: &flag}, "")
	}
	ok(set("user.a", `"first"`, webhdfs.PutParamsFlagCREATE))(t)
	r, err := set("user.a", `"again"`, webhdfs.PutParamsFlagCREATE)
	wantException(t, r, err, http.StatusForbidden, "IOException")
	ok(set("user.a", `"second"`, webhdfs.PutParamsFlagREPLACE))(t)
	r, err = set("user.b2", "0x0102", webhdfs.PutParamsFlagREPLACE)
	wantException(t, r, err, http.StatusForbidden, "IOException")
	ok(set("user.b", "0x0102", webhdfs.PutParamsFlagCREATE))(t)
	r, err = set("nonamespace", `"x"`, webhdfs.PutParamsFlagCREATE)
	wantException(t, r, err, http.StatusBadRequest, "HadoopIllegalArgumentException")
	r, err = set("trusted.t", `"x"`, webhdfs.PutParamsFlagCREATE)
	wantException(t, r, err, http.StatusForbidden, "AccessControlException")

	text := webhdfs.GetParamsEncodingText
	all := ok(u.get(t, "alice", "tmp/f", webhdfs.GetParams{Op: webhdfs.GetOpGETXATTRS, Encoding: &text}))(t).JSON200.XAttrs
	if all == nil || len(*all) != 2 || (*all)[0].Name != "user.a" || *(*all)[0].Value != `"second"` || *(*all)[1].Value != "\"\x01\x02\"" {
		t.Errorf("GETXATTRS text: %+v", all)
	}
	hex := webhdfs.GetParamsEncodingHex
	one := ok(u.get(t, "alice", "tmp/f", webhdfs.GetParams{Op: webhdfs.GetOpGETXATTRS, Encoding: &hex, XattrName: &[]string{"user.b"}}))(t).JSON200.XAttrs
	if one == nil || len(*one) != 1 || *(*one)[0].Value != "0x0102" {
		t.Errorf("GETXATTRS hex user.b: %+v", one)
	}
	g, err := u.get(t, "alice", "tmp/f", webhdfs.GetParams{Op: webhdfs.GetOpGETXATTRS, Encoding: &text, XattrName: &[]string{"user.zz"}})
	wantException(t, g, err, http.StatusForbidden, "IOException")
	names := ok(u.get(t, "alice", "tmp/f", webhdfs.GetParams{Op: webhdfs.GetOpLISTXATTRS}))(t).JSON200.XAttrNames
	if names == nil || *names != `["user.a","user.b"]` {
		t.Errorf("LISTXATTRS: %v", names)
	}
	ok(u.put(t, "alice", "tmp/f", webhdfs.PutParams{Op: webhdfs.PutOpREMOVEXATTR, XattrName: new("user.a")}, ""))(t)
	r, err = u.put(t, "alice", "tmp/f", webhdfs.PutParams{Op: webhdfs.PutOpREMOVEXATTR, XattrName: new("user.a")}, "")
	wantException(t, r, err, http.StatusForbidden, "IOException")
}

func TestWebHDFSSnapshots(t *testing.T) {
	t.Parallel()
	u := newUsers(t, restapis.WebHDFSConfig{}, "alice")
	ok(u.put(t, "hdfs", "snap/f", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "one"))(t)
	r, err := u.put(t, "hdfs", "snap", webhdfs.PutParams{Op: webhdfs.PutOpCREATESNAPSHOT, Snapshotname: new("s1")}, "")
	wantException(t, r, err, http.StatusForbidden, "SnapshotException") // not snapshottable yet
	r, err = u.put(t, "alice", "snap", webhdfs.PutParams{Op: webhdfs.PutOpALLOWSNAPSHOT}, "")
	wantException(t, r, err, http.StatusForbidden, "AccessControlException") // the superuser's
	ok(u.put(t, "hdfs", "snap", webhdfs.PutParams{Op: webhdfs.PutOpALLOWSNAPSHOT}, ""))(t)
	s1 := ok(u.put(t, "hdfs", "snap", webhdfs.PutParams{Op: webhdfs.PutOpCREATESNAPSHOT, Snapshotname: new("s1")}, ""))(t)
	if s1.JSON200 == nil || s1.JSON200.Path == nil || *s1.JSON200.Path != "/snap/.snapshot/s1" {
		t.Fatalf("CREATESNAPSHOT: %+v", s1.JSON200)
	}
	ok(u.put(t, "hdfs", "snap/f", webhdfs.PutParams{Op: webhdfs.PutOpCREATE, Overwrite: new(true)}, "two"))(t)
	ok(u.put(t, "hdfs", "snap/g", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "new"))(t)
	ok(u.put(t, "hdfs", "snap", webhdfs.PutParams{Op: webhdfs.PutOpCREATESNAPSHOT, Snapshotname: new("s2")}, ""))(t)

	if got := ok(u.get(t, "hdfs", "snap/.snapshot/s1/f", webhdfs.GetParams{Op: webhdfs.GetOpOPEN}))(t).Body; string(got) != "one" {
		t.Errorf("OPEN of the snapshot's copy: %q", got)
	}
	r, err = u.put(t, "hdfs", "snap/.snapshot/s1/h", webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS}, "")
	wantException(t, r, err, http.StatusForbidden, "SnapshotAccessControlException")

	diff := ok(u.get(t, "hdfs", "snap", webhdfs.GetParams{Op: webhdfs.GetOpGETSNAPSHOTDIFF, Oldsnapshotname: new("s1"), Snapshotname: new("s2")}))(t).JSON200.SnapshotDiffReport
	var entries []string
	for _, e := range diff.DiffList {
		entries = append(entries, string(e.Type)+" "+e.SourcePath)
	}
	if got := strings.Join(entries, ","); got != "MODIFY ,MODIFY f,CREATE g" || diff.FromSnapshot != "s1" || diff.SnapshotRoot != "/snap" {
		t.Errorf("GETSNAPSHOTDIFF: %q, %+v", got, diff)
	}
	listing := ok(u.get(t, "hdfs", "snap", webhdfs.GetParams{Op: webhdfs.GetOpGETSNAPSHOTDIFFLISTING, Oldsnapshotname: new("s1"), Snapshotname: new("s2")}))(t).JSON200.SnapshotDiffReportListing
	if listing == nil || len(listing.CreateList) != 1 || listing.CreateList[0].SourcePath != "g" || listing.LastIndex != -1 {
		t.Errorf("GETSNAPSHOTDIFFLISTING: %+v", listing)
	}
	list := ok(u.get(t, "hdfs", "snap", webhdfs.GetParams{Op: webhdfs.GetOpGETSNAPSHOTLIST}))(t).JSON200.SnapshotList
	if list == nil || len(*list) != 2 || (*list)[0].DirStatus.PathSuffix != "s1" {
		t.Errorf("GETSNAPSHOTLIST: %+v", list)
	}
	dirs := ok(u.get(t, "hdfs", "", webhdfs.GetParams{Op: webhdfs.GetOpGETSNAPSHOTTABLEDIRECTORYLIST}))(t).JSON200.SnapshottableDirectoryList
	if dirs == nil || len(*dirs) != 1 || (*dirs)[0].SnapshotNumber != 2 || (*dirs)[0].ParentFullPath != "/" {
		t.Errorf("GETSNAPSHOTTABLEDIRECTORYLIST: %+v", dirs)
	}
	if none := ok(u.get(t, "alice", "", webhdfs.GetParams{Op: webhdfs.GetOpGETSNAPSHOTTABLEDIRECTORYLIST}))(t).JSON200.SnapshottableDirectoryList; none != nil {
		t.Errorf("alice owns no snapshottable directory, got %+v", *none)
	}
	ok(u.put(t, "hdfs", "snap", webhdfs.PutParams{Op: webhdfs.PutOpRENAMESNAPSHOT, Oldsnapshotname: new("s1"), Snapshotname: new("s0")}, ""))(t)
	r, err = u.put(t, "hdfs", "snap", webhdfs.PutParams{Op: webhdfs.PutOpDISALLOWSNAPSHOT}, "")
	wantException(t, r, err, http.StatusForbidden, "SnapshotException")
	for _, name := range []string{"s0", "s2"} {
		ok(u.c["hdfs"].DeleteWithResponse(t.Context(), "snap", &webhdfs.DeleteParams{Op: webhdfs.DeleteOpDELETESNAPSHOT, Snapshotname: new(name)}))(t)
	}
	d, err := u.c["hdfs"].DeleteWithResponse(t.Context(), "snap", &webhdfs.DeleteParams{Op: webhdfs.DeleteOpDELETESNAPSHOT, Snapshotname: new("s2")})
	wantException(t, d, err, http.StatusForbidden, "SnapshotException")
	ok(u.put(t, "hdfs", "snap", webhdfs.PutParams{Op: webhdfs.PutOpDISALLOWSNAPSHOT}, ""))(t)
}

func TestWebHDFSPoliciesAndQuotas(t *testing.T) {
	t.Parallel()
	u := newUsers(t, restapis.WebHDFSConfig{}, "alice")
	all := ok(u.get(t, "hdfs", "", webhdfs.GetParams{Op: webhdfs.GetOpGETALLSTORAGEPOLICY}))(t).JSON200.BlockStoragePolicies
	if all == nil || len(all.BlockStoragePolicy) != 8 {
		t.Fatalf("GETALLSTORAGEPOLICY: %+v", all)
	}
	ok(u.put(t, "hdfs", "cold/f", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "12345"))(t)
	ok(u.put(t, "hdfs", "cold", webhdfs.PutParams{Op: webhdfs.PutOpSETSTORAGEPOLICY, Storagepolicy: new("COLD")}, ""))(t)
	sp := ok(u.get(t, "hdfs", "cold/f", webhdfs.GetParams{Op: webhdfs.GetOpGETSTORAGEPOLICY}))(t).JSON200.BlockStoragePolicy
	if sp == nil || sp.Name != "COLD" || sp.Id != 2 || sp.StorageTypes[0] != webhdfs.StorageTypeARCHIVE {
		t.Errorf("GETSTORAGEPOLICY inherited: %+v", sp)
	}
	ok(u.put(t, "hdfs", "cold", webhdfs.PutParams{Op: webhdfs.PutOpSATISFYSTORAGEPOLICY}, ""))(t)
	r, err := u.put(t, "hdfs", "cold", webhdfs.PutParams{Op: webhdfs.PutOpSETSTORAGEPOLICY, Storagepolicy: new("LUKEWARM")}, "")
	wantException(t, r, err, http.StatusBadRequest, "HadoopIllegalArgumentException")
	ok(u.c["hdfs"].PostWithBodyWithResponse(t.Context(), "cold", &webhdfs.PostParams{Op: webhdfs.PostOpUNSETSTORAGEPOLICY}, "", nil))(t)
	if sp := ok(u.get(t, "hdfs", "cold/f", webhdfs.GetParams{Op: webhdfs.GetOpGETSTORAGEPOLICY}))(t).JSON200.BlockStoragePolicy; sp.Name != "HOT" {
		t.Errorf("after UNSETSTORAGEPOLICY: %s", sp.Name)
	}

	// Erasure coding: one policy enabled by default.
	infos := ok(u.get(t, "hdfs", "", webhdfs.GetParams{Op: webhdfs.GetOpGETECPOLICIES}))(t).JSON200.ErasureCodingPolicies
	if infos == nil || len(infos.ErasureCodingPolicyInfo) != 5 || infos.ErasureCodingPolicyInfo[0].State != webhdfs.ECPolicyInfoStateENABLED ||
		infos.ErasureCodingPolicyInfo[1].State != webhdfs.ECPolicyInfoStateDISABLED {
		t.Fatalf("GETECPOLICIES: %+v", infos)
	}
	ok(u.put(t, "hdfs", "ec", webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS}, ""))(t)
	r, err = u.put(t, "hdfs", "ec", webhdfs.PutParams{Op: webhdfs.PutOpSETECPOLICY, Ecpolicy: new("RS-3-2-1024k")}, "")
	wantException(t, r, err, http.StatusBadRequest, "HadoopIllegalArgumentException")
	r, err = u.put(t, "alice", "", webhdfs.PutParams{Op: webhdfs.PutOpENABLEECPOLICY, Ecpolicy: new("RS-3-2-1024k")}, "")
	wantException(t, r, err, http.StatusForbidden, "AccessControlException")
	ok(u.put(t, "hdfs", "", webhdfs.PutParams{Op: webhdfs.PutOpENABLEECPOLICY, Ecpolicy: new("RS-3-2-1024k")}, ""))(t)
	ok(u.put(t, "hdfs", "ec", webhdfs.PutParams{Op: webhdfs.PutOpSETECPOLICY, Ecpolicy: new("RS-3-2-1024k")}, ""))(t)
	ok(u.put(t, "hdfs", "ec/f", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "ec data"))(t)
	st := ok(u.get(t, "hdfs", "ec/f", webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS}))(t).JSON200.FileStatus
	if st.EcBit == nil || !*st.EcBit || *st.EcPolicy != "RS-3-2-1024k" || st.EcPolicyObj == nil || st.EcPolicyObj.Id != 2 {
		t.Errorf("a file in an EC directory: %+v", st)
	}
	pol := ok(u.get(t, "hdfs", "ec", webhdfs.GetParams{Op: webhdfs.GetOpGETECPOLICY}))(t).JSON200
	if pol == nil || pol.Name == nil || *pol.Name != "RS-3-2-1024k" || *pol.NumDataUnits != 3 {
		t.Errorf("GETECPOLICY: %+v", pol)
	}
	if sum := ok(u.get(t, "hdfs", "ec", webhdfs.GetParams{Op: webhdfs.GetOpGETCONTENTSUMMARY}))(t).JSON200.ContentSummary; *sum.EcPolicy != "RS-3-2-1024k" {
		t.Errorf("GETCONTENTSUMMARY ecPolicy %q", *sum.EcPolicy)
	}
	ok(u.c["hdfs"].PostWithBodyWithResponse(t.Context(), "ec", &webhdfs.PostParams{Op: webhdfs.PostOpUNSETECPOLICY}, "", nil))(t)
	if pol := ok(u.get(t, "hdfs", "ec", webhdfs.GetParams{Op: webhdfs.GetOpGETECPOLICY}))(t).JSON200; pol != nil && pol.Name != nil {
		t.Errorf("GETECPOLICY after UNSETECPOLICY: %+v", pol)
	}
	ok(u.put(t, "hdfs", "", webhdfs.PutParams{Op: webhdfs.PutOpDISABLEECPOLICY, Ecpolicy: new("RS-3-2-1024k")}, ""))(t)

	// Quotas: names, then space, then by storage type.
	ok(u.put(t, "hdfs", "q", webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS, Permission: new("777")}, ""))(t)
	r, err = u.put(t, "alice", "q", webhdfs.PutParams{Op: webhdfs.PutOpSETQUOTA, Namespacequota: new(int64(3))}, "")
	wantException(t, r, err, http.StatusForbidden, "AccessControlException")
	ok(u.put(t, "hdfs", "q", webhdfs.PutParams{Op: webhdfs.PutOpSETQUOTA, Namespacequota: new(int64(3))}, ""))(t)
	ok(u.put(t, "alice", "q/a", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "a"))(t)
	ok(u.put(t, "alice", "q/b", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "b"))(t)
	r, err = u.put(t, "alice", "q/c", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "c")
	wantException(t, r, err, http.StatusForbidden, "NSQuotaExceededException")
	qu := ok(u.get(t, "alice", "q", webhdfs.GetParams{Op: webhdfs.GetOpGETQUOTAUSAGE}))(t).JSON200.QuotaUsage
	if qu == nil || qu.FileAndDirectoryCount != 3 || qu.Quota != 3 || qu.SpaceConsumed != 6 || qu.SpaceQuota != -1 {
		t.Errorf("GETQUOTAUSAGE: %+v", qu)
	}
	ok(u.put(t, "hdfs", "q", webhdfs.PutParams{Op: webhdfs.PutOpSETQUOTA, Namespacequota: new(int64(-1)), Storagespacequota: new(int64(10))}, ""))(t)
	r, err = u.put(t, "alice", "q/c", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "cc")
	wantException(t, r, err, http.StatusForbidden, "DSQuotaExceededException")
	disk := webhdfs.StorageTypeDISK
	ok(u.put(t, "hdfs", "q", webhdfs.PutParams{Op: webhdfs.PutOpSETQUOTABYSTORAGETYPE, Storagetype: &disk, Storagespacequota: new(int64(100))}, ""))(t)
	sum := ok(u.get(t, "alice", "q", webhdfs.GetParams{Op: webhdfs.GetOpGETCONTENTSUMMARY}))(t).JSON200.ContentSummary
	if sum.Quota != -1 || sum.SpaceQuota != 10 || sum.TypeQuota == nil || (*sum.TypeQuota)["DISK"].Quota != 100 || (*sum.TypeQuota)["DISK"].Consumed != 6 {
		t.Errorf("GETCONTENTSUMMARY with quotas: %+v", sum)
	}
}

func TestWebHDFSLinksAndFileSystem(t *testing.T) {
	t.Parallel()
	u := newUsers(t, restapis.WebHDFSConfig{ProxyUsers: map[string][]string{"etl": {"alice"}}}, "alice", "etl")
	ok(u.put(t, "alice", "tmp/t", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "target"))(t)
	ok(u.put(t, "alice", "tmp/links/l", webhdfs.PutParams{Op: webhdfs.PutOpCREATESYMLINK, Destination: new("/tmp/t")}, ""))(t)
	target := ok(u.get(t, "alice", "tmp/links/l", webhdfs.GetParams{Op: webhdfs.GetOpGETLINKTARGET}))(t).JSON200.Path
	if target == nil || *target != "/tmp/t" {
		t.Errorf("GETLINKTARGET: %v", target)
	}
	ls := ok(u.get(t, "alice", "tmp/links/l", webhdfs.GetParams{Op: webhdfs.GetOpGETFILELINKSTATUS}))(t).JSON200.FileStatus
	if ls.Type != webhdfs.FileTypeSYMLINK || ls.Symlink == nil || *ls.Symlink != "/tmp/t" {
		t.Errorf("GETFILELINKSTATUS: %+v", ls)
	}
	g, err := u.get(t, "alice", "tmp/links/l", webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS})
	wantException(t, g, err, http.StatusForbidden, "UnresolvedPathException")
	g, err = u.get(t, "alice", "tmp/t", webhdfs.GetParams{Op: webhdfs.GetOpGETLINKTARGET})
	wantException(t, g, err, http.StatusForbidden, "IOException")

	for op, want := range map[webhdfs.GetOp]string{webhdfs.GetOpGETHOMEDIRECTORY: "/user/alice", webhdfs.GetOpGETTRASHROOT: "/user/alice/.Trash"} {
		if p := ok(u.get(t, "alice", "", webhdfs.GetParams{Op: op}))(t).JSON200.Path; p == nil || *p != want {
			t.Errorf("%s: %v, want %s", op, p, want)
		}
	}
	def := ok(u.get(t, "alice", "", webhdfs.GetParams{Op: webhdfs.GetOpGETSERVERDEFAULTS}))(t).JSON200.FsServerDefaults
	if def == nil || *def.BlockSize != 128<<20 || *def.DefaultStoragePolicyId != 7 || *def.Replication != 3 {
		t.Errorf("GETSERVERDEFAULTS: %+v", def)
	}
	fsst := ok(u.get(t, "alice", "", webhdfs.GetParams{Op: webhdfs.GetOpGETSTATUS}))(t).JSON200.FsStatus
	if fsst == nil || fsst.Capacity != 1<<40 || fsst.Used != 18 || fsst.Remaining != fsst.Capacity-fsst.Used {
		t.Errorf("GETSTATUS: %+v", fsst)
	}
	// Without security no secret manager runs: no token.
	tok := ok(u.get(t, "alice", "", webhdfs.GetParams{Op: webhdfs.GetOpGETDELEGATIONTOKEN}))(t)
	if tok.JSON200 == nil || tok.JSON200.Token != nil {
		t.Errorf("GETDELEGATIONTOKEN without security: %+v", tok.JSON200)
	}
	// Proxy users: etl may act as alice, alice may not act as etl.
	ok(u.put(t, "etl", "tmp/by-proxy", webhdfs.PutParams{Op: webhdfs.PutOpCREATE, Doas: new("alice")}, "p"))(t)
	if st := ok(u.get(t, "hdfs", "tmp/by-proxy", webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS}))(t).JSON200.FileStatus; st.Owner != "alice" {
		t.Errorf("a file made by etl as alice belongs to %s", st.Owner)
	}
	r, err := u.put(t, "alice", "tmp/x", webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS, Doas: new("etl")}, "")
	wantException(t, r, err, http.StatusForbidden, "SecurityException")
}
