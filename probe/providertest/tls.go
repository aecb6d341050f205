package providertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"
)

// certificates is what StartTLS makes: a throwaway CA and a leaf it signed.
type certificates struct {
	ca    *x509.Certificate
	caPEM []byte
	leaf  tls.Certificate
}

// newCertificates makes a P-256 CA and a server leaf for 127.0.0.1, ::1,
// localhost and hosts (IPs or DNS names). Validity follows the real clock,
// since clients verify against it, not against Options.Now.
func newCertificates(now time.Time, hosts []string) (certificates, error) {
	var c certificates
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return c, fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"llmprobe providertest"}, CommonName: "llmprobe providertest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return c, fmt.Errorf("sign CA: %w", err)
	}
	if c.ca, err = x509.ParseCertificate(caDER); err != nil {
		return c, fmt.Errorf("parse CA: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return c, fmt.Errorf("generate leaf key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"llmprobe providertest"}, CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else if h != "" {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, h)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, c.ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return c, fmt.Errorf("sign leaf: %w", err)
	}
	c.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	c.leaf = tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}
	return c, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// edgeListener sits under the TLS listener and decides, per accepted
// connection, whether the handshake fails. The request path is unknown
// before the handshake, so any active tls_handshake_failure rule applies to
// every connection, whichever provider it names.
type edgeListener struct {
	net.Listener
	s *Server
}

func (l *edgeListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		f, refuse := l.s.matchHandshake()
		if !refuse {
			return c, nil
		}
		if !l.s.startRefusal(c) {
			c.Close()
			continue
		}
		go l.s.refuseHandshake(c, f.Delay)
	}
}

// alertHandshakeFailure is a TLS record: alert (21), version 3.3, length
// 2, level fatal (2), description handshake_failure (40). Go clients
// report "remote error: tls: handshake failure".
var alertHandshakeFailure = []byte{21, 3, 3, 0, 2, 2, 40}

// startRefusal registers c so that Close can end it.
func (s *Server) startRefusal(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.refusing[c] = true
	s.handlers.Add(1)
	return true
}

// refuseHandshake reads the ClientHello record, waits delay, answers a
// fatal alert and closes, as an edge that cannot complete the handshake.
func (s *Server) refuseHandshake(c net.Conn, delay time.Duration) {
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.refusing, c)
		s.mu.Unlock()
		s.handlers.Done()
	}()
	_ = c.SetDeadline(time.Now().Add(10*time.Second + delay))
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	if hdr[0] == 22 { // handshake record: read the rest of the ClientHello
		n := int64(hdr[3])<<8 | int64(hdr[4])
		if _, err := io.CopyN(io.Discard, c, n); err != nil {
			return
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.closing:
			return
		}
	}
	_, _ = c.Write(alertHandshakeFailure)
}
