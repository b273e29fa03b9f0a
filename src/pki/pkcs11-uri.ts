/**
 * RFC 7512 PKCS#11 URIs, as far as mtlsctl names a CA key with one:
 *   pkcs11:token=<label>;object=<CKA_LABEL>[;id=%01%02][;type=private]?module-path=/abs/lib.so&pin-source=file:/abs/pin
 * Path attributes are separated by ";", query attributes by "&"; values are percent-decoded (§2.3).
 * `pin-value` is accepted too (RFC 7512 §2.3) but a PIN in a file is what the README recommends.
 */
import * as path from "node:path";
import { inputError } from "../errors";

export interface Pkcs11Uri {
  /** The token's label (CKA token info label), required. */
  token: string;
  /** The key's CKA_LABEL, required. */
  object: string;
  /** The key's CKA_ID, when given (`id=%01%ab`). */
  id?: Buffer;
  /** The absolute path of the PKCS#11 module (`module-path`), required. */
  modulePath: string;
  /** The file that holds the user PIN (`pin-source=file:…`, or a plain path). */
  pinSource?: string;
  /** The PIN itself (`pin-value`), when given inline. */
  pinValue?: string;
  /** The URI as written (never printed with a pin-value: see redactUri). */
  text: string;
}

const PATH_ATTRS = new Set(["token", "object", "id", "type", "manufacturer", "model", "serial", "library-manufacturer", "library-description", "library-version", "slot-description", "slot-manufacturer", "slot-id"]);
const QUERY_ATTRS = new Set(["module-path", "module-name", "pin-source", "pin-value"]);

function decode(v: string, uri: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === "%") {
      const h = v.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) throw inputError(`a malformed percent-escape "%${h}" in the PKCS#11 URI`, uri);
      out.push(parseInt(h, 16));
      i += 2;
    } else out.push(...Buffer.from(c, "utf8"));
  }
  return Buffer.from(out);
}

/** Parses a PKCS#11 URI naming a key; throws an input error (exit 3) naming what is wrong. */
export function parsePkcs11Uri(text: string): Pkcs11Uri {
  const shown = redactUri(text);
  if (!/^pkcs11:/i.test(text)) throw inputError(`not a PKCS#11 URI (it must start with "pkcs11:")`, shown);
  const rest = text.slice("pkcs11:".length);
  const q = rest.indexOf("?");
  const pathPart = q < 0 ? rest : rest.slice(0, q);
  const queryPart = q < 0 ? "" : rest.slice(q + 1);
  const attrs = new Map<string, Buffer>();
  const take = (part: string, sep: string, allowed: Set<string>) => {
    for (const a of part.split(sep)) {
      if (a === "") continue;
      const eq = a.indexOf("=");
      if (eq <= 0) throw inputError(`a PKCS#11 URI attribute without "=": "${a.split("=")[0]}"`, shown);
      const k = a.slice(0, eq).toLowerCase();
      if (!allowed.has(k)) throw inputError(`unknown PKCS#11 URI attribute "${k}"`, shown);
      if (attrs.has(k)) throw inputError(`the PKCS#11 URI attribute "${k}" is given twice`, shown);
      attrs.set(k, decode(a.slice(eq + 1), shown));
    }
  };
  take(pathPart, ";", PATH_ATTRS);
  take(queryPart, "&", QUERY_ATTRS);
  const str = (k: string) => attrs.get(k)?.toString("utf8");
  const token = str("token");
  const object = str("object");
  const modulePath = str("module-path");
  if (!token) throw inputError(`the PKCS#11 URI names no token (token=LABEL)`, shown);
  if (!object) throw inputError(`the PKCS#11 URI names no object (object=LABEL, the key's CKA_LABEL)`, shown);
  if (!modulePath) throw inputError(`the PKCS#11 URI names no module (?module-path=/absolute/path/to/module.so)`, shown);
  if (!path.isAbsolute(modulePath)) throw inputError(`the PKCS#11 module-path must be absolute: ${modulePath}`, shown);
  const type = str("type");
  if (type !== undefined && type !== "private") throw inputError(`the PKCS#11 URI must name a private key (type=private), not type=${type}`, shown);
  let pinSource = str("pin-source");
  if (pinSource !== undefined) {
    if (pinSource.startsWith("file:")) pinSource = pinSource.slice("file:".length).replace(/^\/\/(?=\/)/, "");
    else if (/^[a-z][a-z0-9+.-]*:/i.test(pinSource)) throw inputError(`pin-source must be a file (pin-source=file:/path), not ${pinSource}`, shown);
  }
  const id = attrs.get("id");
  return { token, object, ...(id && id.length ? { id } : {}), modulePath, ...(pinSource ? { pinSource } : {}), ...(str("pin-value") !== undefined ? { pinValue: str("pin-value")! } : {}), text };
}

/** The URI with any pin-value hidden, for messages and the store. */
export function redactUri(text: string): string {
  return text.replace(/([?&]pin-value=)[^&]*/gi, "$1***");
}
