"""The Python judges (issue 21 §1), run in the venv of scripts/judges-setup.sh.

Reads the artifact manifest that test/judges/artifacts.ts writes (a JSON array) and prints one JSON line
per artifact and tool:
  {"tool": "pkilint", "id", "findings": [{"code", "severity", "message", "path", "linter"}]}
      certificates: lint_pkix_cert, and lint_pkix_signer_signee_cert_chain against the issuer;
      CRLs: lint_crl -t CRL -p PKIX (RFC 5280 profiles only, never the CA/B Forum ones);
      OCSP responses: lint_ocsp_response (RFC 6960);
      findings of severity WARNING and above (NOTICE and INFO are not judged).
  {"tool": "cryptography", "id", "ok", "error", "checks": [...]}
      certificates: loaded, the signature verified against the issuer, the chain verified by
      cryptography's x509.verification for the EKU (client verifier; server verifier with the name):
      a refused chain is a finding "cryptography.verify-<eku>", judged like a lint;
      CRL: signature and entries; CSR: signature; PKCS#12: opened with its password, the key matches
      the certificate, the CA is carried (a trust store: the CA alone, no key); OCSP response: loaded,
      successful, the signature over tbsResponseData verified with the CA's key (or, when the response
      carries a delegated responder's certificate, that one's, itself signed by the CA and with
      id-kp-OCSPSigning), the responder ID names the signer, the single response is for the CA's key
      hash and the expected serial, with the expected status (and reason).
The pkilint linters are called through their own command-line entry points (the same code as the
lint_* commands), in this one process.
"""

import contextlib
import io
import json
import sys
import warnings

warnings.simplefilter("ignore")  # pkilint's DSA deprecation notice is not a finding

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, ed448, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: E402
from cryptography.x509 import ocsp, verification  # noqa: E402
from pkilint.bin import lint_crl, lint_ocsp_response, lint_pkix_cert, lint_pkix_signer_signee_cert_chain  # noqa: E402

JUDGED = ("WARNING", "ERROR", "FATAL")
CERT_KINDS = ("root", "intermediate", "constrained-intermediate", "client", "server", "peer")


def pkilint(main, args, linter):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            main(["lint", "-s", "WARNING", "-f", "JSON", *args])
        except SystemExit:
            pass
    text = buf.getvalue().strip()
    if not text:
        raise RuntimeError(f"{linter} {' '.join(args)} printed nothing")
    out = []
    for r in json.loads(text)["results"]:
        for f in r["finding_descriptions"]:
            if f["severity"] in JUDGED:
                out.append({"code": f["code"], "severity": f["severity"], "message": f.get("message") or "", "path": r["node_path"], "linter": linter})
    return out


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def load_certs(paths):
    return [load_cert(p) for p in paths or []]


def pub_bytes(k):
    return k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_signature(pub, signature, data, hash_alg):
    """A signature by `pub` over `data` (raises InvalidSignature): RSA PKCS#1 v1.5, ECDSA, EdDSA."""
    if isinstance(pub, rsa.RSAPublicKey):
        pub.verify(signature, data, padding.PKCS1v15(), hash_alg)
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        pub.verify(signature, data, ec.ECDSA(hash_alg))
    elif isinstance(pub, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        pub.verify(signature, data)
    else:
        raise ValueError(f"unexpected key type {type(pub).__name__}")


def der_tlv(b, i):
    """(tag, start of contents, end of contents) of the DER element at b[i]."""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n


def spki_bits(spki):
    """The subjectPublicKey BIT STRING's bits (no unused-bits octet) of a SubjectPublicKeyInfo."""
    _, start, _ = der_tlv(spki, 0)
    _, _, alg_end = der_tlv(spki, start)
    tag, bs, be = der_tlv(spki, alg_end)
    if tag != 0x03:
        raise ValueError("no BIT STRING in the SubjectPublicKeyInfo")
    return spki[bs + 1:be]


REASONS = {1: x509.ReasonFlags.key_compromise, 2: x509.ReasonFlags.ca_compromise, 3: x509.ReasonFlags.affiliation_changed, 4: x509.ReasonFlags.superseded, 5: x509.ReasonFlags.cessation_of_operation, 6: x509.ReasonFlags.certificate_hold, 9: x509.ReasonFlags.privilege_withdrawn}


def judge_ocsp(a, data):
    checks = []
    resp = ocsp.load_der_ocsp_response(data)
    checks.append("load")
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise ValueError(f"response status {resp.response_status}")
    ca = load_cert(a["issuer"])
    signer = ca
    if resp.certificates:
        # a delegated responder: its certificate signed by the CA, for id-kp-OCSPSigning
        signer = resp.certificates[0]
        signer.verify_directly_issued_by(ca)
        if x509.ExtendedKeyUsageOID.OCSP_SIGNING not in signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value:
            raise ValueError("the responder's certificate has no id-kp-OCSPSigning")
        checks.append("delegated responder signed by the CA")
    verify_signature(signer.public_key(), resp.signature, resp.tbs_response_bytes, resp.signature_hash_algorithm)
    checks.append("signature")
    key_bits = x509.SubjectKeyIdentifier.from_public_key(signer.public_key()).digest  # SHA-1 of the key's BIT STRING
    if resp.responder_key_hash is not None:
        if resp.responder_key_hash != key_bits:
            raise ValueError("the responder ID (byKey) is not the signer's key hash")
    elif resp.responder_name != signer.subject:
        raise ValueError("the responder ID (byName) is not the signer's subject")
    checks.append("responder ID")
    singles = list(resp.responses)
    if len(singles) != 1:
        raise ValueError(f"{len(singles)} single responses, expected 1")
    s = singles[0]
    # the CertID: the hash of the CA's name and key, in the request's hash algorithm
    ca_key_bits = ca.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    h = hashes.Hash(s.hash_algorithm)
    h.update(spki_bits(ca_key_bits))
    if s.issuer_key_hash != h.finalize():
        raise ValueError("issuerKeyHash is not the CA's key hash")
    h = hashes.Hash(s.hash_algorithm)
    h.update(ca.subject.public_bytes())
    if s.issuer_name_hash != h.finalize():
        raise ValueError("issuerNameHash is not the CA's name hash")
    if format(s.serial_number, "x") != a["serial"].lstrip("0"):
        raise ValueError(f"serial {format(s.serial_number, 'x')}, expected {a['serial']}")
    checks.append("for the CA and the serial")
    status = {ocsp.OCSPCertStatus.GOOD: "good", ocsp.OCSPCertStatus.REVOKED: "revoked", ocsp.OCSPCertStatus.UNKNOWN: "unknown"}[s.certificate_status]
    if status != a["ocspStatus"]:
        raise ValueError(f"status {status}, expected {a['ocspStatus']}")
    if status == "revoked":
        want = REASONS.get(a.get("ocspReason")) if a.get("ocspReason") is not None else None
        if s.revocation_reason != want:
            raise ValueError(f"revocation reason {s.revocation_reason}, expected {want}")
        if s.revocation_time_utc is None:
            raise ValueError("no revocation time")
    checks.append(f"status {status}")
    if s.next_update_utc is not None and s.next_update_utc < s.this_update_utc:
        raise ValueError("nextUpdate before thisUpdate")
    return checks


def judge(a, findings):
    kind, file = a["kind"], a["file"]
    checks = []
    data = open(file, "rb").read()
    if kind in CERT_KINDS:
        cert = x509.load_pem_x509_certificate(data)
        checks.append("load")
        issuer = load_cert(a["issuer"])
        cert.verify_directly_issued_by(issuer)
        checks.append("signature by issuer")
        store = verification.Store(load_certs(a.get("roots")))
        inter = load_certs(a.get("intermediates"))
        for eku in a.get("eku") or []:
            builder = verification.PolicyBuilder().store(store)
            if eku == "clientAuth":
                v = builder.build_client_verifier()
            else:
                v = builder.build_server_verifier(x509.DNSName(a["dns"]))
            try:
                v.verify(cert, inter)
                checks.append(f"verify {eku}")
            except verification.VerificationError as e:
                # a refused chain is a finding (named, matched against allowed.txt / known-defects.txt)
                findings.append({"code": f"cryptography.verify-{eku}", "severity": "ERROR", "message": str(e), "path": "chain", "linter": "x509.verification"})
    elif kind.startswith("crl"):
        crl = x509.load_der_x509_crl(data) if a["format"] == "der" else x509.load_pem_x509_crl(data)
        checks.append("load")
        if not crl.is_signature_valid(load_cert(a["issuer"]).public_key()):
            raise ValueError("the CRL's signature does not verify with the CA's key")
        checks.append("signature")
        got = sorted(format(r.serial_number, "x") for r in crl)
        want = sorted(s.lower().lstrip("0") for s in a.get("revoked") or [])
        if got != want:
            raise ValueError(f"CRL lists {got}, expected {want}")
        checks.append(f"{len(got)} entries")
    elif kind == "csr":
        csr = x509.load_pem_x509_csr(data)
        checks.append("load")
        if not csr.is_signature_valid:
            raise ValueError("the CSR's signature does not verify")
        checks.append("signature")
    elif kind == "ocsp":
        checks = judge_ocsp(a, data)
    elif kind.startswith("p12") or kind.startswith("truststore"):
        p = pkcs12.load_pkcs12(data, a["password"].encode())
        checks.append("open with password")
        ca = load_cert(a["issuer"])
        extra = [c.certificate for c in p.additional_certs]
        if kind.startswith("truststore"):
            if p.key is not None or p.cert is not None:
                raise ValueError("a trust store must hold no key")
            if extra != [ca]:
                raise ValueError(f"the trust store holds {len(extra)} certificates, not the CA alone")
            checks.append("the CA alone")
        else:
            if p.key is None or p.cert is None:
                raise ValueError("no key or no certificate")
            if pub_bytes(p.key.public_key()) != pub_bytes(p.cert.certificate.public_key()):
                raise ValueError("the key does not match the certificate")
            checks.append("key matches certificate")
            p.cert.certificate.verify_directly_issued_by(ca)
            checks.append("certificate signed by the CA")
            if ca not in extra:
                raise ValueError("the CA is not in the file")
            checks.append("CA carried")
    else:
        raise ValueError(f"unknown kind {kind}")
    return checks


def main():
    manifest = json.load(open(sys.argv[1]))
    for a in manifest:
        kind, file = a["kind"], a["file"]
        findings = None
        if kind in CERT_KINDS:
            fmt = ["--document-format", "PEM"]
            findings = pkilint(lint_pkix_cert.main, [*fmt, file], "lint_pkix_cert")
            if kind != "root":
                findings += pkilint(lint_pkix_signer_signee_cert_chain.main, [*fmt, a["issuer"], file], "lint_pkix_signer_signee_cert_chain")
        elif kind == "ocsp":
            findings = pkilint(lint_ocsp_response.main, [file], "lint_ocsp_response")
        elif kind.startswith("crl"):
            findings = pkilint(lint_crl.main, ["-t", "CRL", "-p", "PKIX", "--document-format", a["format"].upper(), file], "lint_crl")
        if findings is not None:
            print(json.dumps({"tool": "pkilint", "id": a["id"], "findings": findings}), flush=True)
        try:
            found = []
            r = {"tool": "cryptography", "id": a["id"], "ok": True, "checks": judge(a, found), "findings": found}
        except Exception as e:  # every failure is reported, with its type
            r = {"tool": "cryptography", "id": a["id"], "ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
