/**
 * The online CA's issuance on any Store (issue 19: `serve --db`): the same checks and answers as
 * issuer.ts's Issuer (which works on the synchronous file store), through the Store interface and
 * issue-store.ts issueInStore. The token's claim is made in the certificate's own store transaction
 * (a database: one SQL transaction under the writer lock, the token row locked FOR UPDATE): a refused
 * request consumes nothing, a token is never spent twice, and a 200 is sent only after the commit.
 */
import { Refusal } from "./refusal";
import { checkEnrolRequest, checkRenewalRequest, parseRequest, presentedCertificate, recordOfPresented, reissuedOrRefused, spkiSha256, type Enrolled } from "./issuer";
import { issueInStore } from "../issue-store";
import { readCertificates, type ParsedCertificate } from "../pki/cert";
import { csrPem } from "../pki/csr";
import { describeKey } from "../pki/keys";
import { DAY, DEFAULT_LEAF_DAYS } from "../pki/plan";
import type { Signer } from "../pki/signer";
import { tokenMatches, tokenState } from "../store/tokens";
import type { Store, TokenRecord } from "../store/types";
import type { Guard } from "./guard";

export interface StoreIssuerOptions {
  store: Store;
  signer: Signer;
  caCert: ParsedCertificate;
  guard?: Guard | null;
  requireRekey?: boolean;
  maxLifetimeMs?: number;
}


export class StoreIssuer {
  constructor(readonly o: StoreIssuerOptions) {}

  private lifetime(wanted: number | null): { days: number; notAfterCap: Date } {
    let ms = wanted ?? DEFAULT_LEAF_DAYS * DAY;
    if (this.o.maxLifetimeMs !== undefined) ms = Math.min(ms, this.o.maxLifetimeMs);
    return { days: Math.min(36500, Math.max(1, Math.ceil(ms / DAY))), notAfterCap: new Date(Date.now() + ms) };
  }

  private async tokenFor(name: string, password: string): Promise<TokenRecord> {
    const t = (await this.o.store.tokensNamed(name)).filter((x) => tokenMatches(x, password)).pop();
    if (!t) throw new Refusal(401, "unknown name or token");
    return t;
  }

  async enroll(name: string, password: string, csrDer: Buffer): Promise<Enrolled> {
    const store = this.o.store;
    const t = await this.tokenFor(name, password);
    const now = new Date();
    const claimed = t.claim ? await store.findBySerial(t.claim.serial) : undefined;
    const state = tokenState(t, now, () => !!claimed);
    const csr = parseRequest(csrDer);
    if (state === "revoked") throw new Refusal(403, `the token for "${name}" was revoked (${t.revokedAt}): ask for a new one`);
    if (state === "claimed") {
      // a lost response must not burn the token: the same key within the TTL gets the same certificate
      if (t.claim!.spkiSha256 === spkiSha256(csr.spki) && new Date(t.expiresAt) > now && claimed!.status !== "revoked") {
        const pem = await store.certificatePem(claimed!.serial);
        if (pem !== undefined) return { cert: readCertificates(Buffer.from(pem), store.location)[0], record: claimed!, outcome: "reissued", name };
      }
      throw new Refusal(403, `the token for "${name}" was already used (serial ${t.claim!.serial}): ask for a new one`);
    }
    const subjectDer = checkEnrolRequest(t, state, csr, name, !!this.o.guard);
    const { days, notAfterCap } = this.lifetime(t.lifetimeSeconds === null ? null : t.lifetimeSeconds * 1000);
    const keyHash = spkiSha256(csr.spki);
    const issued = await issueInStore(
      store,
      this.o.signer,
      this.o.caCert,
      {
        profile: t.kind,
        name,
        subjectDer,
        spki: csr.spki,
        publicKey: csr.publicKey,
        sans: t.sans,
        days,
        notAfterCap,
        force: true,
        keyType: describeKey(csr.publicKey),
        csrPem: csrPem(csr.der),
        beforeWrite: (cert) => {
          if (t.kind === "client") this.o.guard?.check(cert, t.expectUser);
        },
        inTransaction: async (tx, cert) => {
          // in the transaction: the token as it is now (another instance or `token revoke` may have spent it)
          const cur = await tx.findToken(t.id);
          const claimedNow = cur?.claim ? !!(await tx.findBySerial(cur.claim.serial)) : false;
          const st = cur ? tokenState(cur, new Date(), () => claimedNow) : "revoked";
          if (st !== "active") throw new Refusal(403, `the token for "${name}" is ${st === "claimed" ? "already used" : st}: ask for a new one`);
          await tx.claimToken(t.id, cert.serialHex, keyHash);
        },
      },
      [],
    );
    return { cert: issued.cert, record: issued.record, outcome: "issued", name };
  }

  async reenroll(clientDer: Buffer | null, csrDer: Buffer): Promise<Enrolled> {
    const store = this.o.store;
    const now = Date.now();
    const cur = presentedCertificate(clientDer, this.o.caCert, now);
    const rec = recordOfPresented(await store.findBySerial(cur.serialHex), cur);
    if (rec.renewedBy) {
      const csr = parseRequest(csrDer);
      return reissuedOrRefused(rec, await store.findBySerial(rec.renewedBy), async (n) => {
        const pem = await store.certificatePem(n.serial);
        return pem ? readCertificates(Buffer.from(pem), n.certFile)[0] : null;
      }, csr, now);
    }
    const csr = parseRequest(csrDer);
    const sans = checkRenewalRequest(csr, cur, this.o.requireRekey);
    const { days, notAfterCap } = this.lifetime(cur.notAfter.getTime() - cur.notBefore.getTime() - 60_000);
    const profile = rec.profile === "peer" ? "peer" : rec.kind === "server" ? "server" : "client";
    const issued = await issueInStore(
      store,
      this.o.signer,
      this.o.caCert,
      {
        profile,
        name: rec.name,
        subjectDer: cur.subjectRaw,
        spki: csr.spki,
        publicKey: csr.publicKey,
        sans,
        days,
        notAfterCap,
        renews: rec.serial,
        keyType: describeKey(csr.publicKey),
        csrPem: csrPem(csr.der),
        beforeWrite: (cert) => {
          if (profile === "client") this.o.guard?.check(cert, null);
        },
      },
      [],
    );
    return { cert: issued.cert, record: issued.record, outcome: "renewed", name: rec.name };
  }
}
