package worker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/internal/testkit"
)

func TestControlTargetsAreBoundedAndShownRedacted(t *testing.T) {
	var many []string
	for i := range maxControlTargets + 1 {
		many = append(many, fmt.Sprintf("t%d=https://t%d.example/", i, i))
	}
	if _, err := ParseControlTargets(strings.Join(many, ",")); err == nil || !strings.Contains(err.Error(), "more than 16 targets") {
		t.Errorf("%d targets: %v, want them refused", len(many), err)
	}
	if _, err := ParseControlTargets("a=https://x.example/" + strings.Repeat("p", maxTargetURL)); err == nil || !strings.Contains(err.Error(), "longer than 2048") {
		t.Errorf("a 2 KiB URL: %v, want it refused", err)
	}
	_, err := ParseControlTargets("x=htp://user:hunter2-secret@x.example/?token=t0ps3cret")
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "t0ps3cret") {
		t.Errorf("a bad URL's error %v shows its secrets", err)
	}
	// A target that fails reports its URL redacted and an error without
	// the URL's secrets.
	rep := ProbeControl(context.Background(), ControlTarget{Name: "x", URL: "http://user:hunter2-secret@127.0.0.1:1/?token=t0ps3cret"}, time.Minute, nil, nil)
	if rep.Success || rep.URL != "http://redacted@127.0.0.1:1/?token=redacted" || strings.Contains(rep.Error, "hunter2") || strings.Contains(rep.Error, "t0ps3cret") {
		t.Errorf("report %+v", rep)
	}
}

func TestStatusPageComponentNamesAreBoundedLabelValues(t *testing.T) {
	page := `{"components":[{"name":"API","status":"operational"},{"name":"Chat\u0000GPT","status":"major_outage"},
		{"name":"` + strings.Repeat("n", maxComponentName+1) + `","status":"operational"},{"name":"a\"b","status":"operational"},
		{"name":"\u00e9tat","status":"operational"},{"name":"Files API (v1)","status":"degraded_performance"}]}`
	comps, err := ParseStatusPage([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range comps {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, "|"); got != "API|Files API (v1)" {
		t.Errorf("kept %q, want only the names that can be label values", got)
	}
	// A page that renames its components on every read gets no more than
	// maxComponentNames names over the worker's life.
	allowed := map[string]bool{}
	kept := 0
	for round := range 10 {
		var cs []StatusComponent
		for i := range maxComponents {
			cs = append(cs, StatusComponent{Name: fmt.Sprintf("c%d-%d", round, i)})
		}
		kept += len(allowNames(cs, allowed))
	}
	if kept != maxComponentNames || len(allowed) != maxComponentNames {
		t.Errorf("kept %d names (%d allowed), want %d", kept, len(allowed), maxComponentNames)
	}
}

func TestDescriptorsAreKeptForTheProbes(t *testing.T) {
	s := Settings{Concurrency: 64, MaxConnections: 256}
	if err := s.checkDescriptors(1024); err != nil {
		t.Errorf("the defaults under 1024 descriptors: %v", err)
	}
	s = Settings{Concurrency: 512, MaxConnections: 256}
	err := s.checkDescriptors(1024)
	if err == nil || !strings.Contains(err.Error(), "LLMPROBE_CONCURRENCY 512 and LLMPROBE_MAX_CONNECTIONS 256 need about 1344 file descriptors, and this process may open 1024") {
		t.Errorf("too many for 1024 descriptors: %v", err)
	}
	if err := s.checkDescriptors(0); err != nil {
		t.Errorf("an unknown limit: %v", err)
	}
}

// TestTheServerServesAtMostMaxConnections: with its connections all held
// by clients that never finish a request, a new client waits its turn
// (in the kernel's queue, not in a descriptor of the worker) and is
// served as soon as one of them goes.
func TestTheServerServesAtMostMaxConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	go srv.Serve(limitConnections(ln, 2))
	defer srv.Close()
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\n") // headers that never end
		held = append(held, c)
	}
	answered := make(chan string, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			answered <- err.Error()
			return
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		answered <- line
	}()
	// While both connections are held, the third is not served. (A slow
	// machine only makes this wait pass sooner; it cannot fail it.)
	select {
	case got := <-answered:
		t.Fatalf("a third connection was served while two were held: %q", got)
	case <-time.After(200 * time.Millisecond):
	}
	held[0].Close()
	var got string
	testkit.Eventually(t, "the third connection's answer", func() bool {
		select {
		case got = <-answered:
			return true
		default:
			return false
		}
	})
	if !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("the third connection got %q", got)
	}
}
