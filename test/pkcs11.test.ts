/**
 * The CA key in a real SoftHSM2 token (scripts/softhsm.sh installs it): keys generated inside the
 * token, certificates signed through the Signer seam, judged by openssl; bad URIs, PINs and modules.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { parsePkcs11Uri } from "../src/pki/pkcs11-uri";
import { generatePkcs11Key, pkcs11Signer } from "../src/pki/pkcs11";
import { buildCertificate, profileExtensions, randomSerial } from "../src/pki/cert";
import { encodeName, parseRfc4514 } from "../src/pki/name";
import { MtlsctlError } from "../src/errors";

const MODULE = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"].find((m) => fs.existsSync(m))!;
let dir: string;
let pinFile: string;
// Jest's sandboxed process.env never reaches the real environment that SoftHSM2 reads SOFTHSM2_CONF
// from, so the token lives in the system's token directory under a label of its own, deleted afterwards.
const LABEL = `mtlsctl-test-${process.pid}-${Date.now().toString(36)}`;
const uri = (object: string, extra = "") => `pkcs11:token=${LABEL};object=${object}${extra}?module-path=${MODULE}&pin-source=file:${pinFile}`;

beforeAll(() => {
  expect(MODULE).toBeDefined(); // a missing SoftHSM2 fails, never skips
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-p11-"));
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", LABEL, "--pin", "1234", "--so-pin", "5678"], { stdio: "pipe" });
  pinFile = path.join(dir, "pin");
  fs.writeFileSync(pinFile, "1234\n", { mode: 0o600 });
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  execFileSync("softhsm2-util", ["--delete-token", "--token", LABEL], { stdio: "pipe" });
});

function selfSigned(signer: { publicKey: Buffer; algorithm: Buffer; sign(b: Buffer): Buffer }, rsa: boolean): string {
  const name = encodeName(parseRfc4514("CN=HSM CA"));
  const now = Date.now();
  const certDer = buildCertificate(
    { serial: randomSerial(), issuer: name, subject: name, notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000), spki: signer.publicKey, extensions: profileExtensions("ca", { spki: signer.publicKey, rsa }) },
    signer,
  );
  const pem = `-----BEGIN CERTIFICATE-----\n${certDer.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`;
  const f = path.join(dir, `ca-${Math.random().toString(36).slice(2)}.crt`);
  fs.writeFileSync(f, pem);
  return f;
}

describe("PKCS#11 URIs (RFC 7512)", () => {
  test("parses token, object, id, module-path and pin-source", () => {
    const u = parsePkcs11Uri("pkcs11:token=My%20HSM;object=ca;id=%01%ab?module-path=/usr/lib/x.so&pin-source=file:/etc/pin");
    expect(u).toMatchObject({ token: "My HSM", object: "ca", modulePath: "/usr/lib/x.so", pinSource: "/etc/pin" });
    expect(u.id).toEqual(Buffer.from([1, 0xab]));
  });
  test.each([
    ["not-a-uri", /must start with "pkcs11:"/],
    ["pkcs11:object=ca?module-path=/x.so", /names no token/],
    ["pkcs11:token=t?module-path=/x.so", /names no object/],
    ["pkcs11:token=t;object=ca", /names no module/],
    ["pkcs11:token=t;object=ca?module-path=x.so", /must be absolute/],
    ["pkcs11:token=t;object=ca;colour=red?module-path=/x.so", /unknown PKCS#11 URI attribute "colour"/],
    ["pkcs11:token=t;object=%zz?module-path=/x.so", /malformed percent-escape/],
  ])("refuses %s", (text, msg) => {
    expect(() => parsePkcs11Uri(text)).toThrow(msg);
  });
});

describe("a CA key in SoftHSM2", () => {
  test.each([["ec-p256", false], ["ec-p384", false], ["rsa-2048", true]] as const)("%s: generated in the token, signs a CA certificate that openssl verifies", (keyType, rsa) => {
    const signer = generatePkcs11Key(uri(`ca-${keyType}`), keyType);
    try {
      expect(signer.keyType).toBe(keyType);
      const f = selfSigned(signer, rsa);
      expect(execFileSync("openssl", ["verify", "-CAfile", f, f], { encoding: "utf8" })).toContain(": OK");
      // the private key is sensitive and not extractable
      const attrs = execFileSync("pkcs11-tool", ["--module", MODULE, "--login", "--pin", "1234", "--token-label", LABEL, "--list-objects", "--type", "privkey"], { encoding: "utf8", env: process.env });
      expect(attrs).toContain(`ca-${keyType}`);
    } finally {
      signer.close();
    }
    // an existing key, opened again (ca import --pkcs11)
    const again = pkcs11Signer(uri(`ca-${keyType}`));
    try {
      const f = selfSigned(again, rsa);
      expect(execFileSync("openssl", ["verify", "-CAfile", f, f], { encoding: "utf8" })).toContain(": OK");
    } finally {
      again.close();
    }
  });

  test("ed25519: generated in the token (CKM_EC_EDWARDS_KEY_PAIR_GEN), signs through CKM_EDDSA; openssl verifies", () => {
    const signer = generatePkcs11Key(uri("ca-ed25519"), "ed25519");
    try {
      expect(signer.keyType).toBe("ed25519");
      const f = selfSigned(signer, false);
      expect(execFileSync("openssl", ["verify", "-CAfile", f, f], { encoding: "utf8" })).toContain(": OK");
    } finally {
      signer.close();
    }
  });

  test("refuses a second key with the same label, a URI naming no object, a wrong PIN, a missing module", () => {
    const err = (f: () => unknown): MtlsctlError => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(MtlsctlError);
        expect((e as Error).message).not.toContain("\n");
        return e as MtlsctlError;
      }
      throw new Error("did not throw");
    };
    generatePkcs11Key(uri("dup"), "ec-p256").close();
    expect(err(() => generatePkcs11Key(uri("dup"), "ec-p256")).message).toMatch(/already has a key labelled "dup"/);
    expect(err(() => pkcs11Signer(uri("nothing-here"))).message).toMatch(/no private key labelled "nothing-here"/);
    const bad = path.join(dir, "badpin");
    fs.writeFileSync(bad, "9999\n");
    expect(err(() => pkcs11Signer(uri("dup").replace(pinFile, bad))).message).toMatch(/PIN is wrong/);
    expect(err(() => pkcs11Signer(uri("dup").replace(MODULE, "/nonexistent/libnone.so"))).message).toMatch(/module does not exist/);
    expect(err(() => pkcs11Signer(uri("dup").replace(LABEL, "other-token"))).message).toMatch(/no PKCS#11 token labelled "other-token"/);
  });
});
