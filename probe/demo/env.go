package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/llmprobe/llmprobe/internal/buildinfo"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
	"github.com/llmprobe/llmprobe/probe/worker"
)

// demoKey is the key the demo's fake origins accept.
const demoKey = "demo-key"

// demoEnv is the demo's world: in each region, a fake Cloudflare edge and a
// fake Google front end (so a fault can be one region's, as the 2026-02-04
// errors were mostly the US's), the region's network path to them and to a
// control target as relays it can cut, and the region's worker, all on one
// incident clock.
type demoEnv struct {
	regions map[string]*demoRegion
	control *http.Server
	clock   *incidentClock
	workers *errgroup.Group
	stop    context.CancelFunc
	ctx     context.Context // ends when any worker fails
	// sleepers is how many goroutines sleep on the clock when all is idle:
	// every check's scheduler loop and every region's control loop.
	sleepers int
}

type demoRegion struct {
	name    string
	cf, gfe *providertest.Server
	fwd     map[string]*forwarder // cloudflare, google, control
	url     string                // the worker
}

// edge is the fake edge in front of provider in a region.
func (r *demoRegion) edge(provider string) *providertest.Server {
	for _, p := range demoProviders {
		if p.id == provider && p.edge == providertest.EdgeGoogle {
			return r.gfe
		}
	}
	return r.cf
}

// inject applies f to provider's requests from every region.
func (e *demoEnv) inject(provider string, f providertest.Fault) {
	for _, r := range e.regions {
		r.edge(provider).Inject(provider, f)
	}
}

// regionFault applies f to a share of provider's requests from each
// region listed: one region's view of an incident.
func (e *demoEnv) regionFault(provider string, f providertest.Fault, shares map[string]float64) {
	for name, share := range shares {
		g := f
		g.Share = share
		e.regions[name].edge(provider).Inject(provider, g)
	}
}

// clear ends every fault and brings every region's network back.
func (e *demoEnv) clear() {
	for name, r := range e.regions {
		r.cf.Clear()
		r.gfe.Clear()
		e.regionUp(name)
	}
}

func (e *demoEnv) regionDown(region string) {
	for _, f := range e.regions[region].fwd {
		f.down()
	}
}

func (e *demoEnv) regionUp(region string) {
	for _, f := range e.regions[region].fwd {
		_ = f.up()
	}
}

// close stops the workers and everything they reach.
func (e *demoEnv) close() error {
	e.stop()
	err := e.workers.Wait()
	for _, r := range e.regions {
		for _, f := range r.fwd {
			f.close()
		}
		r.cf.Close()
		r.gfe.Close()
	}
	e.control.Close()
	return err
}

// newEnv starts the fakes, the relays and a worker per region probing every
// interval of incident time, the first worker listening on listen and the
// others on the next ports (port 0: any free port).
func newEnv(ctx context.Context, listen string, interval time.Duration, start time.Time, logger *slog.Logger) (*demoEnv, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, configErrorf("--listen: %v", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, configErrorf("--listen: port %q is not a number", portText)
	}
	controlLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &demoEnv{regions: map[string]*demoRegion{}, clock: newIncidentClock(start),
		control: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }),
			ReadHeaderTimeout: 10 * time.Second}}
	go e.control.Serve(controlLn)
	workCtx, stop := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(workCtx)
	e.workers, e.stop, e.ctx = g, stop, gctx
	prober := &probe.Prober{UserAgent: buildinfo.Get().UserAgent(), Clock: probeClock{e.clock}}
	for i, name := range demoRegions {
		r := &demoRegion{name: name, fwd: map[string]*forwarder{},
			cf:  providertest.NewServer(providertest.Options{Edge: providertest.EdgeCloudflare, APIKey: demoKey}),
			gfe: providertest.NewServer(providertest.Options{Edge: providertest.EdgeGoogle, APIKey: demoKey})}
		e.regions[name] = r
		for path, target := range map[string]string{"cloudflare": hostPort(r.cf.URL()), "google": hostPort(r.gfe.URL()), "control": controlLn.Addr().String()} {
			fw, err := newForwarder(target)
			if err != nil {
				e.close()
				return nil, err
			}
			r.fwd[path] = fw
		}
		addr := net.JoinHostPort(host, strconv.Itoa(port+i))
		if port == 0 {
			addr = net.JoinHostPort(host, "0")
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			e.close()
			return nil, configErrorf("--listen: %v", err)
		}
		r.url = "http://" + ln.Addr().String()
		targets, err := worker.ParseControlTargets("local=http://" + r.fwd["control"].addr + "/")
		if err != nil {
			e.close()
			return nil, err
		}
		// Probes are real exchanges on loopback: their timeout is real
		// time, and no scenario stalls a probe into it.
		s := worker.Settings{Region: name, Interval: interval, Timeout: min(interval, 10*time.Second), Concurrency: 64, History: 60,
			ControlTargets: targets, ShutdownTimeout: 5 * time.Second}
		var checks []probe.Check
		for _, dp := range demoProviders {
			p, _ := probe.LookupProvider(dp.id)
			edge, path := r.cf, r.fwd["cloudflare"]
			if dp.edge == providertest.EdgeGoogle {
				edge, path = r.gfe, r.fwd["google"]
			}
			base := "http://" + path.addr + strings.TrimPrefix(edge.BaseURL(dp.id), edge.URL())
			for _, kind := range probe.Kinds {
				c := probe.Check{Provider: p, Kind: kind, BaseURL: base, APIKey: demoKey, Region: name, Timeout: s.Timeout}
				if kind != probe.KindReach {
					c.Model = p.DefaultModel
				}
				checks = append(checks, c)
			}
		}
		e.sleepers += len(checks) + 1
		g.Go(func() error {
			return worker.Run(gctx, s, worker.Options{Checks: checks, Logger: logger, Listener: ln, Clock: e.clock, Probe: prober.Probe})
		})
	}
	if err := e.idle(); err != nil {
		e.close()
		return nil, fmt.Errorf("start the workers: %w", err)
	}
	return e, nil
}

// idle waits until every goroutine on the clock sleeps again, or a worker
// fails.
func (e *demoEnv) idle() error {
	if err := e.clock.waitIdle(e.ctx, e.sleepers); err != nil {
		if werr := e.workers.Wait(); werr != nil {
			return werr
		}
		return err
	}
	return nil
}

func hostPort(u string) string {
	return strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
}
