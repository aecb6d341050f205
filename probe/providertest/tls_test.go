package providertest

import (
	"crypto/x509"
	"runtime"
	"testing"
	"time"
)

// TestRefusedHandshakeEndsOnClose checks the listener's refusal goroutine:
// a late alert (Delay) must not outlive Close.
func TestRefusedHandshakeEndsOnClose(t *testing.T) {
	before := runtime.NumGoroutine()
	s := NewTLSServer(Options{})
	s.Inject("", Fault{Kind: TLSHandshakeFailure, Delay: time.Hour})
	done := make(chan error, 1)
	go func() {
		resp, err := s.Client().Get(s.BaseURL("openai") + "/models")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	refusing := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.refusing)
	}
	// The bounds below only catch a hang; a loaded machine never fails them.
	for deadline := time.Now().Add(time.Minute); refusing() == 0 && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	if refusing() != 1 {
		t.Fatalf("%d handshakes in refusal, want 1", refusing())
	}
	s.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("the refused handshake produced a response")
		}
	case <-time.After(time.Minute):
		t.Fatal("the client did not return after Close")
	}
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Minute); n > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > before {
		t.Errorf("goroutines %d before, %d after Close", before, n)
	}
}

func TestCertificateCoversLoopbackLocalhostAndExtraHosts(t *testing.T) {
	c, err := newCertificates(time.Now(), []string{"providers", "10.1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(c.leaf.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost", "providers", "10.1.2.3"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if !c.ca.IsCA || c.ca.PublicKeyAlgorithm.String() != "ECDSA" {
		t.Errorf("CA: IsCA %v algorithm %v", c.ca.IsCA, c.ca.PublicKeyAlgorithm)
	}
	if err := cert.CheckSignatureFrom(c.ca); err != nil {
		t.Errorf("leaf not signed by the CA: %v", err)
	}
}
