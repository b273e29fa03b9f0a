// The crypto/x509 judge (issue 21 §1): reads the artifact manifest that test/judges/artifacts.ts writes
// (a JSON array) and prints one JSON line per artifact it reads: {"id", "ok", "error", "checks"}.
//   certificate: parsed; its signature checked against its issuer; Verify'd to its roots through its
//                intermediates for each extended key usage it must serve (clientAuth for clients,
//                serverAuth (+ the DNS name) for servers, both for peers, any for CAs);
//   CRL:         parsed, its signature checked against the CA, its entries compared with the serials;
//   CSR:         parsed and CheckSignature'd.
// PKCS#12 is not read by the standard library: those artifacts are not printed.
package main

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"sort"
	"strings"
)

type artifact struct {
	ID            string   `json:"id"`
	Kind          string   `json:"kind"`
	File          string   `json:"file"`
	Format        string   `json:"format"`
	Issuer        string   `json:"issuer"`
	Roots         []string `json:"roots"`
	Intermediates []string `json:"intermediates"`
	Eku           []string `json:"eku"`
	DNS           string   `json:"dns"`
	Revoked       []string `json:"revoked"`
}

type result struct {
	ID     string   `json:"id"`
	OK     bool     `json:"ok"`
	Error  string   `json:"error,omitempty"`
	Checks []string `json:"checks"`
}

// der returns the one DER object of a PEM file of the given type, or the file itself when DER.
func der(file, format, typ string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if format == "der" {
		return b, nil
	}
	p, rest := pem.Decode(b)
	if p == nil || p.Type != typ {
		return nil, fmt.Errorf("%s: no PEM %q block", file, typ)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, fmt.Errorf("%s: more than one PEM block", file)
	}
	return p.Bytes, nil
}

func cert(file string) (*x509.Certificate, error) {
	d, err := der(file, "pem", "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(d)
}

func pool(files []string) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	for _, f := range files {
		c, err := cert(f)
		if err != nil {
			return nil, err
		}
		p.AddCert(c)
	}
	return p, nil
}

var ekus = map[string]x509.ExtKeyUsage{"clientAuth": x509.ExtKeyUsageClientAuth, "serverAuth": x509.ExtKeyUsageServerAuth}

func judge(a artifact) (checks []string, err error) {
	switch {
	case a.Kind == "csr":
		d, err := der(a.File, a.Format, "CERTIFICATE REQUEST")
		if err != nil {
			return nil, err
		}
		r, err := x509.ParseCertificateRequest(d)
		if err != nil {
			return nil, fmt.Errorf("ParseCertificateRequest: %w", err)
		}
		if err := r.CheckSignature(); err != nil {
			return nil, fmt.Errorf("CheckSignature: %w", err)
		}
		return []string{"parse", "signature " + r.SignatureAlgorithm.String()}, nil
	case strings.HasPrefix(a.Kind, "crl"):
		d, err := der(a.File, a.Format, "X509 CRL")
		if err != nil {
			return nil, err
		}
		crl, err := x509.ParseRevocationList(d)
		if err != nil {
			return nil, fmt.Errorf("ParseRevocationList: %w", err)
		}
		ca, err := cert(a.Issuer)
		if err != nil {
			return nil, err
		}
		if err := crl.CheckSignatureFrom(ca); err != nil {
			return nil, fmt.Errorf("CheckSignatureFrom: %w", err)
		}
		got := []string{}
		for _, e := range crl.RevokedCertificateEntries {
			got = append(got, hex.EncodeToString(e.SerialNumber.Bytes()))
		}
		want := append([]string{}, a.Revoked...)
		for i, s := range want {
			want[i] = strings.TrimLeft(strings.ToLower(s), "0")
		}
		for i, s := range got {
			got[i] = strings.TrimLeft(s, "0")
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return nil, fmt.Errorf("CRL lists %v, expected %v", got, want)
		}
		if crl.Number == nil {
			return nil, fmt.Errorf("CRL has no CRL number")
		}
		return []string{"parse", "signature " + crl.SignatureAlgorithm.String(), fmt.Sprintf("%d entries", len(got))}, nil
	case a.Kind == "p12" || a.Kind == "p12-legacy" || strings.HasPrefix(a.Kind, "truststore"):
		return nil, nil
	}
	// a certificate
	c, err := cert(a.File)
	if err != nil {
		return nil, fmt.Errorf("ParseCertificate: %w", err)
	}
	checks = append(checks, "parse")
	issuer, err := cert(a.Issuer)
	if err != nil {
		return nil, err
	}
	if err := c.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("CheckSignatureFrom(issuer): %w", err)
	}
	checks = append(checks, "signature "+c.SignatureAlgorithm.String())
	roots, err := pool(a.Roots)
	if err != nil {
		return nil, err
	}
	inter, err := pool(a.Intermediates)
	if err != nil {
		return nil, err
	}
	if len(a.Eku) == 0 {
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, fmt.Errorf("Verify: %w", err)
		}
		checks = append(checks, "verify any")
	}
	for _, e := range a.Eku {
		o := x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{ekus[e]}}
		if e == "serverAuth" {
			o.DNSName = a.DNS
		}
		chains, err := c.Verify(o)
		if err != nil {
			return nil, fmt.Errorf("Verify %s: %w", e, err)
		}
		checks = append(checks, fmt.Sprintf("verify %s (chain of %d)", e, len(chains[0])))
	}
	// a certificate that must not serve an EKU is refused for it
	if len(a.Eku) == 1 {
		other := map[string]string{"clientAuth": "serverAuth", "serverAuth": "clientAuth"}[a.Eku[0]]
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{ekus[other]}}); err == nil {
			return nil, fmt.Errorf("Verify %s: accepted, but a %s certificate must not serve it", other, a.Kind)
		}
		checks = append(checks, "refused "+other)
	}
	return checks, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gox509 manifest.json")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var list []artifact
	if err := json.Unmarshal(b, &list); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	for _, a := range list {
		checks, err := judge(a)
		if err == nil && checks == nil {
			continue
		}
		r := result{ID: a.ID, OK: err == nil, Checks: checks}
		if err != nil {
			r.Error = err.Error()
		}
		enc.Encode(r)
	}
}
