package wsman_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/krbhttp/krbhttp/wsman/internal/soap"
)

// fakeShell is the server side of the unit tests: it answers the shell
// operations with canned replies and records what it was sent. Receive
// replies come from receive (the n-th call, from 0), by default one reply
// with the command done and exit code 0.
type fakeShell struct {
	receive func(n int) (status int, body string)
	// waitForEnd makes Receive time out until stdin has ended, as a
	// command reading all its input would.
	waitForEnd bool

	mu       sync.Mutex
	actions  []string // in arrival order
	stdin    []byte
	sends    int
	ends     int
	receives int
}

var sendStream = regexp.MustCompile(`<rsp:Stream Name="stdin" CommandId="[^"]*"( End="true")?>([^<]*)</rsp:Stream>`)

// serve answers one plaintext envelope.
func (f *fakeShell) serve(t testing.TB, envelope []byte) (int, []byte) {
	req, err := soap.Parse(envelope)
	if err != nil {
		t.Errorf("the client sent a malformed envelope: %v", err)
		return http.StatusBadRequest, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, req.Action)
	body := ""
	switch req.Action {
	case soap.ActionCreate:
		body = `<x:ResourceCreated><a:ReferenceParameters><w:SelectorSet><w:Selector Name="ShellId">SHELL-1</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`
	case soap.ActionCommand:
		body = `<rsp:CommandResponse><rsp:CommandId>CMD-1</rsp:CommandId></rsp:CommandResponse>`
	case soap.ActionSend:
		for _, m := range sendStream.FindAllSubmatch(envelope, -1) {
			data, err := base64.StdEncoding.DecodeString(string(m[2]))
			if err != nil {
				t.Errorf("stdin is not base64: %v", err)
			}
			f.stdin = append(f.stdin, data...)
			f.sends++
			if len(m[1]) > 0 {
				f.ends++
			}
		}
	case soap.ActionReceive:
		if f.waitForEnd && f.ends == 0 {
			_, b := timedOut(0)
			return http.StatusInternalServerError, fakeEnvelope(soap.ActionFault, req.MessageID, b)
		}
		n := f.receives
		f.receives++
		if f.receive != nil {
			status, b := f.receive(n)
			if status != http.StatusOK {
				return status, fakeEnvelope(soap.ActionFault, req.MessageID, b)
			}
			body = b
		} else {
			body = receiveDone(0)
		}
	case soap.ActionSignal, soap.ActionDelete:
	default:
		t.Errorf("unexpected action %q", req.Action)
	}
	return http.StatusOK, fakeEnvelope(soap.ResponseAction(req.Action), req.MessageID, body)
}

func (f *fakeShell) counts() (sends, ends, receives int, actions []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends, f.ends, f.receives, append([]string(nil), f.actions...)
}

func fakeEnvelope(action, relatesTo, body string) []byte {
	return []byte(`<s:Envelope xmlns:s="` + soap.NSSOAP + `" xmlns:a="` + soap.NSAddressing + `" xmlns:x="` + soap.NSTransfer +
		`" xmlns:w="` + soap.NSWSMan + `" xmlns:rsp="` + soap.NSShell + `" xmlns:f="` + soap.NSFault + `"><s:Header><a:Action>` + action +
		`</a:Action><a:RelatesTo>` + relatesTo + `</a:RelatesTo></s:Header><s:Body>` + body + `</s:Body></s:Envelope>`)
}

// receiveOutput is a ReceiveResponse with stdout and stderr, running.
func receiveOutput(stdout, stderr string) string {
	return `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="CMD-1">` + base64.StdEncoding.EncodeToString([]byte(stdout)) +
		`</rsp:Stream><rsp:Stream Name="stderr" CommandId="CMD-1">` + base64.StdEncoding.EncodeToString([]byte(stderr)) +
		`</rsp:Stream><rsp:Stream Name="stdout" CommandId="OTHER">b3RoZXI=</rsp:Stream>` +
		`<rsp:CommandState CommandId="CMD-1" State="` + soap.CommandStateRunning + `"/></rsp:ReceiveResponse>`
}

// receiveDone ends the command with code.
func receiveDone(code int) string {
	return `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="CMD-1" End="true"></rsp:Stream>` +
		`<rsp:CommandState CommandId="CMD-1" State="` + soap.CommandStateDone + `"><rsp:ExitCode>` + strconv.Itoa(code) +
		`</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`
}

// faultBody is a WS-Management fault.
func faultBody(code uint32, subcode, text string) string {
	return fmt.Sprintf(`<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code>`+
		`<s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail><f:WSManFault Code="%d" Machine="fake">`+
		`<f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault>`, subcode, text, code, text)
}

// timedOut is the OperationTimeout fault of a Receive.
func timedOut(int) (int, string) {
	return http.StatusInternalServerError, faultBody(2150858793, "w:TimedOut", "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
}
