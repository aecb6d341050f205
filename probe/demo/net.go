package demo

import (
	"io"
	"net"
	"sync"
)

// forwarder is one region's network path to a fake edge: a loopback TCP
// relay that the demo can take down (connections then get refused, as when a
// region loses its route) and bring back on the same address.
type forwarder struct {
	target string // the fake edge, host:port

	mu    sync.Mutex
	addr  string // our address, fixed by the first up()
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newForwarder(target string) (*forwarder, error) {
	f := &forwarder{target: target, conns: map[net.Conn]struct{}{}}
	return f, f.up()
}

// up starts relaying; a no-op when already up.
func (f *forwarder) up() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		return nil
	}
	addr := f.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	f.ln, f.addr = ln, ln.Addr().String()
	f.wg.Add(1)
	go f.accept(ln)
	return nil
}

// down stops relaying: the listener closes (new connections are refused)
// and open connections are cut.
func (f *forwarder) down() {
	f.mu.Lock()
	ln := f.ln
	f.ln = nil
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

// close takes the forwarder down for good and waits for its goroutines.
func (f *forwarder) close() {
	f.down()
	f.wg.Wait()
}

func (f *forwarder) track(c net.Conn, add bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if add {
		if f.ln == nil {
			return false
		}
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
	return true
}

func (f *forwarder) accept(ln net.Listener) {
	defer f.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go f.relay(c)
	}
}

func (f *forwarder) relay(c net.Conn) {
	defer f.wg.Done()
	defer c.Close()
	up, err := net.Dial("tcp", f.target)
	if err != nil {
		return
	}
	defer up.Close()
	if !f.track(c, true) {
		return
	}
	defer f.track(c, false)
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	// one side ended: end both, so the other copy returns too
	c.Close()
	up.Close()
	<-done
}
