/**
 * @peculiar/x509 as an independent judge. reflect-metadata must load before @peculiar/x509 (its
 * tsyringe dependency throws at load time otherwise), and the library is pointed at Node's webcrypto.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

/** A minimal, independent DER TLV reader (not src/asn1): tag, whole TLV, content. */
export interface Tlv {
  tag: number;
  raw: Buffer;
  content: Buffer;
}

export function tlvAt(buf: Buffer, off = 0): Tlv {
  const tag = buf[off];
  let len = buf[off + 1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
    hdr += n;
  }
  if (off + hdr + len > buf.length) throw new Error("truncated DER");
  return { tag, raw: buf.subarray(off, off + hdr + len), content: buf.subarray(off + hdr, off + hdr + len) };
}

export function tlvChildren(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = 0; off < t.content.length; ) {
    const c = tlvAt(t.content, off);
    out.push(c);
    off += c.raw.length;
  }
  return out;
}

/** DER of a PEM block's body (the first block with that label). */
export function pemToDer(pem: string, label: string): Buffer {
  const m = pem.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
  if (!m) throw new Error(`no ${label} PEM block`);
  return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
}

export function derToPem(der: Buffer, label: string): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The TBSCertificate of a certificate and its fields by name. */
export function tbsFields(certDer: Buffer): { tbs: Tlv; serial: Tlv; sigAlg: Tlv; issuer: Tlv; validity: Tlv; subject: Tlv; spki: Tlv; extensions?: Tlv } {
  const [tbs] = tlvChildren(tlvAt(certDer));
  const f = tlvChildren(tbs);
  let i = f[0].tag === 0xa0 ? 1 : 0;
  const [serial, sigAlg, issuer, validity, subject, spki] = f.slice(i, i + 6);
  i += 6;
  const extensions = f.slice(i).find((x) => x.tag === 0xa3);
  return { tbs, serial, sigAlg, issuer, validity, subject, spki, extensions };
}

/** The raw subject Name of a PKCS#10 request. */
export function csrSubjectRaw(csrDer: Buffer): Buffer {
  const [info] = tlvChildren(tlvAt(csrDer));
  return tlvChildren(info)[1].raw;
}
