package worker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

// ControlTarget is an endpoint outside any LLM provider. When control
// targets on different CDNs fail together with the providers, the path from
// this probe is at fault, not the providers.
type ControlTarget struct {
	Name string // the `target` label
	URL  string
}

// DefaultControlTargets sit behind two different CDNs.
const DefaultControlTargets = "cloudflare=https://www.cloudflare.com/cdn-cgi/trace,google=https://www.gstatic.com/generate_204"

// maxControlTargets bounds LLMPROBE_CONTROL_TARGETS: each is a series of
// llmprobe_control_success and a request every interval.
const maxControlTargets = 16

// maxTargetURL bounds one control target's URL.
const maxTargetURL = 2048

// ParseControlTargets reads "name=url,name=url" (a bare URL is named after
// its host). The empty string means none. Errors show URLs redacted
// (probe.RedactURL).
func ParseControlTargets(s string) ([]ControlTarget, error) {
	var out []ControlTarget
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if len(out) == maxControlTargets {
			return nil, fmt.Errorf("more than %d targets", maxControlTargets)
		}
		name, raw, ok := strings.Cut(item, "=")
		if !ok {
			raw, name = item, ""
		}
		raw = strings.TrimSpace(raw)
		if len(raw) > maxTargetURL {
			return nil, fmt.Errorf("%.80q...: a URL longer than %d characters", probe.RedactURL(raw), maxTargetURL)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%q is not an http(s) URL", probe.RedactURL(raw))
		}
		if name == "" {
			name = u.Hostname()
		}
		name = strings.TrimSpace(name)
		if !probe.ValidID(strings.ReplaceAll(strings.ReplaceAll(name, ".", "_"), "-", "_")) {
			return nil, fmt.Errorf("%q is not a valid target name (lower-case letters, digits, '.', '-', '_')", probe.RedactURL(name))
		}
		if seen[name] {
			return nil, fmt.Errorf("target %q named twice", name)
		}
		seen[name] = true
		out = append(out, ControlTarget{Name: name, URL: u.String()})
	}
	return out, nil
}

// ProbeControl reports whether t answered HTTP at all (any status below
// 500) within timeout, over a fresh connection. Nothing the target sends
// holds it past timeout. The report shows the URL redacted
// (probe.RedactURL) and an error without the URL's secrets.
func ProbeControl(ctx context.Context, t ControlTarget, timeout time.Duration, roots *x509.CertPool, resolver *net.Resolver) (rep ControlReport) {
	rep = ControlReport{Target: t.Name, URL: probe.RedactURL(t.URL), CheckedAt: time.Now().UTC()}
	defer func() { rep.Error = probe.Scrub(rep.Error, probe.URLSecrets(t.URL)...) }()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, DialContext: (&net.Dialer{Resolver: resolver}).DialContext,
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	resp, err := client.Do(req)
	if err != nil {
		rep.Error = probe.ErrorText(err)
		return rep
	}
	// A 101's body is the bare connection: closed at the deadline like
	// any other, and not read at all.
	stop := context.AfterFunc(ctx, func() { resp.Body.Close() })
	if resp.StatusCode >= 200 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	}
	stop()
	resp.Body.Close()
	rep.Success = resp.StatusCode < 500
	if !rep.Success {
		rep.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return rep
}

// ControlLoop probes the control targets every interval until ctx is done.
type ControlLoop struct {
	Targets  []ControlTarget
	Interval time.Duration
	Timeout  time.Duration
	RootCAs  *x509.CertPool
	Region   string
	Metrics  *Metrics
	Status   *StatusStore
	Network  *NetworkState // set after every round; may be nil
	Logger   interface{ Warn(string, ...any) }
	Clock    probe.Clock
}

// Run probes all targets at once each round; a slow target delays no other.
func (l *ControlLoop) Run(ctx context.Context) error {
	clock := l.Clock
	if clock == nil {
		clock = probe.RealClock{}
	}
	for {
		var wg sync.WaitGroup
		var answered atomic.Int64
		for _, t := range l.Targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep := ProbeControl(ctx, t, l.Timeout, l.RootCAs, nil)
				if ctx.Err() != nil {
					return
				}
				l.Metrics.SetControl(t.Name, l.Region, rep.Success)
				l.Status.SetControl(rep)
				if rep.Success {
					answered.Add(1)
				} else {
					l.Logger.Warn("control target failed", "target", t.Name, "err", rep.Error)
				}
			}()
		}
		wg.Wait()
		if ctx.Err() != nil {
			return nil
		}
		l.Network.set(len(l.Targets), int(answered.Load()))
		if err := clock.Sleep(ctx, l.Interval); err != nil {
			return nil
		}
	}
}
