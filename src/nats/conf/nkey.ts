/** NKey public keys as the server's option parser checks them (nkeys v0.3.0's IsValidPublic...). */

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const b of data) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** An NKey public key of the given prefix byte (user 'U' = 20<<3, account 'A' = 0), as nkeys v0.3.0 checks it. */
export function isValidPublicNkey(s: string, prefixByte: number): boolean {
  const src = s.replace(/[\r\n]/g, "");
  if ([1, 3, 6].includes(src.length % 8)) return false;
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of src) {
    const v = B32.indexOf(c);
    if (v < 0) return false;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  if (out.length < 4) return false;
  const raw = Uint8Array.from(out);
  const body = raw.subarray(0, raw.length - 2);
  const want = raw[raw.length - 2] | (raw[raw.length - 1] << 8);
  if (crc16(body) !== want) return false;
  return body[0] === prefixByte;
}
export const PREFIX_USER = 20 << 3;
export const PREFIX_ACCOUNT = 0;
