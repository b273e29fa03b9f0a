/**
 * Cluster mTLS on the real nats-server 2.9.10 (issue 10, part 3): peer certificates
 * (`server issue --peer`: serverAuth + clientAuth) and `config nats`'s cluster, leafnodes,
 * websocket and mqtt blocks.
 *
 *  - three nodes on 127.0.0.1, each with its own peer certificate, form a full mesh of routes with
 *    `verify` (/routez num_routes == 2 on each) and a message published on node A reaches node C;
 *  - a node whose peer certificate comes from another CA never joins (its log says why);
 *  - a serverAuth-only certificate is refused as a route (Go: incompatible key usage), which is why
 *    `config nats` insists on a peer certificate;
 *  - leafnodes connect with their peer certificates and land in the account their leafnode user
 *    names (/leafz), as `verify --connection-type LEAFNODE` predicts; an unlisted one is refused;
 *  - a websocket client with a certificate is mapped by the websocket block's verify_and_map;
 *    an mqtt block is accepted once the server sets server_name and JetStream.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { connect, NatsConnection } from "@nats-io/transport-node";
import { makeStore, mtls, mtlsOk, openssl, run, tool } from "./helpers/cli";
import { freePort, startNatsServer, stopAllNatsServers, NatsServer } from "./helpers/nats";
import { readInventory } from "./helpers/inventory";

jest.setTimeout(180_000);

type Store = ReturnType<typeof makeStore>;
const A: Store = makeStore({ name: "Cluster CA" });
const B: Store = makeStore({ name: "Foreign CA" });
const work = path.join(A.cwd, "work");
fs.mkdirSync(work);
const cli = (args: string[], s: Store = A) => mtlsOk(args, { cwd: s.cwd, env: s.env });
const crt = (s: Store, n: string) => path.join(s.dir, "issued", `${n}.crt`);
const key = (s: Store, n: string) => path.join(s.dir, "private", `${n}.key`);
const caA = path.join(A.dir, "ca.crt");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson(url: string): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}
/** Polls until `ok(value)` or the time is up; returns the last value. */
async function pollJson(url: string, ok: (v: any) => boolean, ms = 20_000): Promise<any> {
  const end = Date.now() + ms;
  let v: any;
  for (;;) {
    v = await getJson(url);
    if (ok(v) || Date.now() > end) return v;
    await sleep(200);
  }
}
const routez = (s: NatsServer) => getJson(`http://127.0.0.1:${s.monitorPort}/routez`);

function eku(file: string): string {
  const r = openssl(["x509", "-in", file, "-noout", "-ext", "extendedKeyUsage"]);
  expect(r.code).toBe(0);
  return r.stdout.split("\n").slice(1).join(" ").trim();
}

/** Writes `config nats ARGS --out file` in work/ and returns the path. */
function snippet(file: string, args: string[], s: Store = A): { file: string; stderr: string } {
  const out = path.join(work, file);
  const r = cli(["config", "nats", ...args, "--out", out, "--force"], s);
  return { file: out, stderr: r.stderr };
}
/** A file in work/ that sets `lines` and includes `inner` (both in work/: the include is relative). */
function wrap(file: string, lines: string[], inner: string): string {
  const out = path.join(work, file);
  fs.writeFileSync(out, [...lines, `include ${JSON.stringify(path.basename(inner))}`, ""].join("\n"));
  return out;
}

async function natsClient(port: number, name: string): Promise<NatsConnection> {
  return connect({ servers: `127.0.0.1:${port}`, tls: { certFile: crt(A, "alice"), keyFile: key(A, "alice"), caFile: caA }, name, reconnect: false, timeout: 5000 });
}

afterAll(async () => {
  await stopAllNatsServers();
});

beforeAll(() => {
  tool("nats-server"); // a missing binary fails here, never skips
  for (const n of ["n1", "n2", "n3"]) cli(["server", "issue", n, "--peer", "--ip", "127.0.0.1", "--dns", `${n}.cluster.test`, "--dns", "localhost"]); // nats.js checks 127.0.0.1 as "localhost"
  cli(["server", "issue", "plain", "--ip", "127.0.0.1", "--dns", "localhost"]); // serverAuth only
  cli(["client", "issue", "alice", "--email", "alice@example.com"]);
  cli(["server", "issue", "f1", "--peer", "--ip", "127.0.0.1"], B);
});

describe("server issue --peer", () => {
  it("has serverAuth and clientAuth; a plain server certificate only serverAuth; list, status and renew keep the profile", () => {
    expect(eku(crt(A, "n1"))).toBe("TLS Web Server Authentication, TLS Web Client Authentication");
    expect(eku(crt(A, "plain"))).toBe("TLS Web Server Authentication");
    const inv = readInventory(A.dir);
    const rec = (n: string) => inv.certificates.find((c: any) => c.name === n);
    expect([rec("n1").kind, rec("n1").profile]).toEqual(["server", "peer"]);
    expect([rec("plain").kind, rec("plain").profile]).toEqual(["server", "server"]);
    const list = JSON.parse(cli(["list", "--json"]).stdout);
    expect(list.find((c: any) => c.name === "n1")).toMatchObject({ kind: "server", profile: "peer" });
    expect(cli(["status"]).code).toBe(0);
    // renew keeps both usages (a separate certificate, so the cluster below is untouched)
    cli(["server", "issue", "n9", "--peer", "--ip", "127.0.0.1"]);
    cli(["renew", "n9", "--rekey"]);
    expect(eku(crt(A, "n9"))).toBe("TLS Web Server Authentication, TLS Web Client Authentication");
    cli(["renew", "plain"]);
    expect(eku(crt(A, "plain"))).toBe("TLS Web Server Authentication");
    expect(openssl(["verify", "-CAfile", caA, "-purpose", "sslclient", crt(A, "n9")]).code).toBe(0);
    expect(openssl(["verify", "-CAfile", caA, "-purpose", "sslclient", crt(A, "plain")]).code).not.toBe(0);
  });

  it("config nats refuses a serverAuth-only certificate as --peer, bad listen values and URLs with credentials", () => {
    const bad = [
      ["--peer", "plain", "--cluster-listen", "127.0.0.1:6222"],
      ["--cluster-listen", "127.0.0.1:99999"],
      ["--cluster-listen", "127.0.0.1:6222", "--routes", "nats-route://u:p@127.0.0.1:6223"],
      ["--cluster-listen", "127.0.0.1:6222", "--routes", "http://127.0.0.1:6223"],
      ["--routes", "nats-route://127.0.0.1:6223"], // no --cluster-listen
      ["--gateway-listen", "127.0.0.1:7222"], // no --gateway-name
      ["--cluster-name", "a", "--cluster-listen", "127.0.0.1:6222", "--gateway-name", "b", "--gateway-listen", "127.0.0.1:7222"],
      ["--leafnodes-listen", "127.0.0.1:7422", "--leafnode-user", "nobody"],
    ];
    for (const args of bad) {
      const r = mtls(["config", "nats", ...args], { cwd: A.cwd, env: A.env });
      expect({ args, code: r.code, lines: r.stderr.trim().split("\n").length }).toEqual({ args, code: 3, lines: 1 });
      expect(r.stderr).toMatch(/^mtlsctl: /);
      expect(r.stdout).toBe("");
    }
    expect(mtls(["config", "nats", "--peer", "plain", "--cluster-listen", "127.0.0.1:6222"], { cwd: A.cwd, env: A.env }).stderr).toContain("without clientAuth");
  });
});

describe("three nodes with routes over mTLS", () => {
  const nodes: NatsServer[] = [];
  let ports: number[] = [];

  beforeAll(async () => {
    ports = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    expect(new Set(ports).size).toBe(5);
    const url = (p: number) => `nats-route://127.0.0.1:${p}`;
    for (let i = 0; i < 3; i++) {
      const others = [0, 1, 2].filter((j) => j !== i).map((j) => url(ports[j]));
      const s = snippet(`node${i + 1}.conf`, ["--server", `n${i + 1}`, "--peer", `n${i + 1}`, "--cluster-name", "c1", "--cluster-listen", `127.0.0.1:${ports[i]}`, "--routes", others.join(",")]);
      const text = fs.readFileSync(s.file, "utf8");
      expect(text).toContain(`cert_file: "${crt(A, `n${i + 1}`)}"`);
      expect(text).toMatch(/cluster \{[^]*verify: true[^]*routes = \[/);
      nodes.push(await startNatsServer(s.file, { debug: false }));
    }
  });

  it("forms a full mesh: /routez shows 2 routes on every node", async () => {
    for (const n of nodes) {
      const rz = await pollJson(`http://127.0.0.1:${n.monitorPort}/routez`, (v) => v.num_routes === 2);
      expect({ node: n.port, routes: rz.num_routes, log: rz.num_routes === 2 ? "" : n.log().slice(-2000) }).toEqual({ node: n.port, routes: 2, log: "" });
    }
  });

  it("a message published on node A reaches a subscriber on node C", async () => {
    const sub = await natsClient(nodes[2].port, "sub-on-C");
    const pub = await natsClient(nodes[0].port, "pub-on-A");
    try {
      const s = sub.subscribe("cluster.test", { max: 1 });
      await sub.flush();
      const got = (async () => {
        for await (const m of s) return m.string();
        return null;
      })();
      // interest crosses the routes asynchronously: publish until it arrives
      let received: string | null = null;
      got.then((v) => (received = v));
      for (let i = 0; i < 50 && received === null; i++) {
        pub.publish("cluster.test", "hello from A");
        await pub.flush();
        await sleep(100);
      }
      expect(await Promise.race([got, sleep(5000).then(() => "timeout")])).toBe("hello from A");
    } finally {
      await pub.close();
      await sub.close();
    }
  });

  it("a node whose peer certificate comes from another CA is refused", async () => {
    const s = snippet("foreign.conf", ["--peer", "f1", "--cluster-name", "c1", "--cluster-listen", `127.0.0.1:${ports[3]}`, "--routes", `nats-route://127.0.0.1:${ports[0]}`], B);
    const foreign = await startNatsServer(s.file, { debug: false });
    await sleep(3500); // the route is retried every second
    expect((await routez(foreign)).num_routes).toBe(0);
    for (const n of nodes) expect((await routez(n)).num_routes).toBe(2);
    // the foreign node cannot verify node A's certificate; node A refuses the handshake
    expect(foreign.log()).toMatch(/TLS route handshake error: .*x509: certificate signed by unknown authority/);
    expect(nodes[0].log()).toMatch(/TLS route handshake error/);
    await foreign.stop();
  });

  it("a serverAuth-only certificate is refused as a route: nats-server requires clientAuth", async () => {
    // config nats refuses `plain` as --peer; write the block with a peer certificate, then swap in plain's files
    const s = snippet("plain.conf", ["--server", "plain", "--peer", "n1", "--cluster-name", "c1", "--cluster-listen", `127.0.0.1:${ports[4]}`, "--routes", `nats-route://127.0.0.1:${ports[0]}`]);
    const text = fs.readFileSync(s.file, "utf8").split(crt(A, "n1")).join(crt(A, "plain")).split(key(A, "n1")).join(key(A, "plain"));
    expect(text).not.toContain("/n1.");
    fs.writeFileSync(s.file, text);
    const plain = await startNatsServer(s.file, { debug: false });
    await sleep(3500);
    expect((await routez(plain)).num_routes).toBe(0);
    expect(nodes[0].log()).toContain("tls: failed to verify client certificate: x509: certificate specifies an incompatible key usage");
    await plain.stop();
  });
});

describe("gateways over mTLS", () => {
  it("two single-node clusters connect their gateways with peer certificates (/gatewayz)", async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const g1 = snippet("gw1.conf", ["--server", "n1", "--peer", "n1", "--gateway-name", "east", "--gateway-listen", `127.0.0.1:${p1}`, "--gateways", `west=nats://127.0.0.1:${p2}`]);
    const g2 = snippet("gw2.conf", ["--server", "n2", "--peer", "n2", "--gateway-name", "west", "--gateway-listen", `127.0.0.1:${p2}`, "--gateways", `east=nats://127.0.0.1:${p1}`]);
    expect(fs.readFileSync(g1.file, "utf8")).toContain(`{ name: "west", urls: ["nats://127.0.0.1:${p2}"] }`);
    const [s1, s2] = [await startNatsServer(g1.file, { debug: false }), await startNatsServer(g2.file, { debug: false })];
    for (const [s, other] of [[s1, "west"], [s2, "east"]] as const) {
      const gz = await pollJson(`http://127.0.0.1:${s.monitorPort}/gatewayz`, (v) => !!v.outbound_gateways?.[other] && !!v.inbound_gateways?.[other]);
      expect({ out: Object.keys(gz.outbound_gateways ?? {}), in: Object.keys(gz.inbound_gateways ?? {}) }).toEqual({ out: [other], in: [other] });
    }
    await s1.stop();
    await s2.stop();
  });
});

describe("leafnodes with verify_and_map", () => {
  let hub: NatsServer;
  let hubMain: string;
  const leafs: NatsServer[] = [];

  beforeAll(async () => {
    cli(["server", "issue", "hub", "--peer", "--ip", "127.0.0.1", "--dns", "hub.cluster.test"]);
    cli(["server", "issue", "leaf1", "--peer", "--ip", "127.0.0.1", "--dns", "leaf1.edge.test"]); // maps by DNS SAN
    cli(["server", "issue", "leaf3", "--peer", "--ip", "127.0.0.1", "--subject", "CN=leaf3,OU=edge,O=Acme"]); // by subject
    cli(["server", "issue", "leaf2", "--peer", "--ip", "127.0.0.1", "--dns", "leaf2.edge.test"]); // not listed
    const lp = await freePort();
    const hubSnippet = snippet("hub.conf", ["--server", "hub", "--peer", "hub", "--leafnodes-listen", `127.0.0.1:${lp}`, "--leafnode-user", "leaf1=EDGE", "--leafnode-user", "leaf3"]);
    // the leafnode user's account is defined in the snippet (else the server would not start)
    expect(hubSnippet.stderr).not.toContain("is not defined in this snippet");
    const text = fs.readFileSync(hubSnippet.file, "utf8");
    expect(text).toContain('{ user: "leaf1.edge.test", account: "EDGE" }');
    expect(text).toContain('{ user: "CN=leaf3,OU=edge,O=Acme" }');
    expect(text).toMatch(/leafnodes \{[^]*verify_and_map: true/);
    expect(text).toMatch(/accounts \{[^]*"EDGE" \{\}/);
    hubMain = wrap("hub-main.conf", [], hubSnippet.file);
    hub = await startNatsServer(hubMain);
    for (const n of ["leaf1", "leaf3", "leaf2"]) {
      const s = snippet(`${n}.conf`, ["--server", n, "--peer", n, "--leafnode-remote", `nats-leaf://127.0.0.1:${lp}`]);
      leafs.push(await startNatsServer(s.file, { debug: false }));
    }
  });

  it("each listed leafnode lands in the account its leafnode user names (/leafz); an unlisted one is refused", async () => {
    const lz = await pollJson(`http://127.0.0.1:${hub.monitorPort}/leafz`, (v) => v.leafnodes >= 2);
    await sleep(2500); // give leaf2 time to try (and fail) too
    const after = await getJson(`http://127.0.0.1:${hub.monitorPort}/leafz`);
    expect(after.leafnodes).toBe(2);
    expect(lz.leafs.map((l: any) => l.account).sort()).toEqual(["$G", "EDGE"]);
    const log = hub.log();
    expect(log).toContain('Using SAN found in cert for auth ["leaf1.edge.test"]');
    expect(log).toContain('Using certificate subject for auth ["CN=leaf3,OU=edge,O=Acme"]');
    expect(log).toContain('User in cert ["CN=leaf2"], not found');
  });

  it("verify --connection-type LEAFNODE predicts the user and account the hub binds", () => {
    const v = (n: string) => {
      const r = mtls(["verify", crt(A, n), "--config", hubMain, "--connection-type", "LEAFNODE", "--json"], { cwd: work, env: A.env });
      return { code: r.code, ...JSON.parse(r.stdout) };
    };
    expect(v("leaf1")).toMatchObject({ code: 0, accepted: true, user: "leaf1.edge.test", account: "EDGE", matchedBy: "dns" });
    expect(v("leaf3")).toMatchObject({ code: 0, accepted: true, user: "CN=leaf3,OU=edge,O=Acme", account: null, matchedBy: "subject" });
    expect(v("leaf2")).toMatchObject({ code: 1, accepted: false, stage: "map", reason: 'User in cert ["CN=leaf2"], not found' });
    // a client certificate from this CA is no leafnode user either; the foreign CA's fails at the handshake
    expect(v("alice")).toMatchObject({ accepted: false, stage: "map" });
    const f = mtls(["verify", crt(B, "f1"), "--config", hubMain, "--connection-type", "LEAFNODE", "--json"], { cwd: work, env: A.env });
    expect(JSON.parse(f.stdout)).toMatchObject({ accepted: false, stage: "tls" });
  });

  it("without the account defined, nats-server refuses to start (and -t does not notice)", () => {
    // the snippet with its accounts {} block cut out, as an operator editing it by hand might leave it
    const cut = fs.readFileSync(path.join(work, "hub.conf"), "utf8").replace(/\naccounts \{\n[^]*?\n\}\n/, "\n");
    expect(cut).not.toContain('"EDGE" {}');
    fs.writeFileSync(path.join(work, "hub-cut.conf"), cut);
    const noAcc = wrap("hub-noacc.conf", [], path.join(work, "hub-cut.conf"));
    const bin = tool("nats-server");
    expect(run(bin, ["-t", "-c", noAcc], { cwd: work }).code).toBe(0);
    const r = run("timeout", ["5", bin, "-c", noAcc], { cwd: work });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('cannot find local account "EDGE" specified in leafnode authorization');
    const v = mtls(["verify", crt(A, "leaf1"), "--config", noAcc, "--connection-type", "LEAFNODE", "--json"], { cwd: work, env: A.env });
    expect(JSON.parse(v.stdout)).toMatchObject({ accepted: false, stage: "config", reason: expect.stringContaining('cannot find local account "EDGE"') });
  });
});

/** A websocket client by hand: TLS with a certificate, the HTTP upgrade, CONNECT + PING in a masked frame. */
async function wsConnect(port: number, name: string): Promise<{ reply: string; close: () => void }> {
  const sock = tls.connect({ host: "127.0.0.1", port, cert: fs.readFileSync(crt(A, "alice")), key: fs.readFileSync(key(A, "alice")), ca: fs.readFileSync(caA) });
  let buf = Buffer.alloc(0);
  const waiters: (() => void)[] = [];
  sock.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    waiters.splice(0).forEach((w) => w());
  });
  const more = () => new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`websocket: no answer (${buf.toString("latin1").slice(0, 200)})`)), 5000);
    waiters.push(() => (clearTimeout(t), resolve()));
    sock.once("error", reject);
  });
  await new Promise<void>((resolve, reject) => sock.once("secureConnect", resolve).once("error", reject));
  sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  while (!buf.includes("\r\n\r\n")) await more();
  const end = buf.indexOf("\r\n\r\n") + 4;
  const head = buf.subarray(0, end).toString("latin1");
  if (!/^HTTP\/1\.1 101/.test(head)) throw new Error(`websocket upgrade refused: ${head}`);
  buf = buf.subarray(end);
  const payload = Buffer.from(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, name, lang: "test", version: "0" })}\r\nPING\r\n`);
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  const len = payload.length < 126 ? Buffer.from([0x80 | payload.length]) : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  sock.write(Buffer.concat([Buffer.from([0x82]), len, mask, masked]));
  // the server's frames are unmasked: read until PONG or -ERR
  let text = "";
  for (;;) {
    while (buf.length >= 2) {
      let n = buf[1] & 0x7f;
      let off = 2;
      if (n === 126) [n, off] = [buf.readUInt16BE(2), 4];
      else if (n === 127) [n, off] = [Number(buf.readBigUInt64BE(2)), 10];
      if (buf.length < off + n) break;
      text += buf.subarray(off, off + n).toString("latin1");
      buf = buf.subarray(off + n);
    }
    if (/PONG|-ERR/.test(text)) break;
    await more();
  }
  return { reply: text, close: () => sock.destroy() };
}

describe("websocket and mqtt listeners with their own verify_and_map", () => {
  it("a websocket client with a certificate is mapped to its user", async () => {
    const wp = await freePort();
    const s = snippet("ws.conf", ["--server", "plain", "--websocket-listen", `127.0.0.1:${wp}`]);
    expect(fs.readFileSync(s.file, "utf8")).toMatch(/websocket \{[^]*verify_and_map: true/);
    const server = await startNatsServer(s.file, { debug: false });
    const name = `ws-${process.pid}`;
    const c = await wsConnect(wp, name);
    try {
      expect(c.reply).toContain("PONG");
      const connz = await getJson(`http://127.0.0.1:${server.monitorPort}/connz?auth=true`);
      const conn = connz.connections.find((x: any) => x.name === name);
      expect(conn?.authorized_user).toBe("alice@example.com");
      const v = mtls(["verify", crt(A, "alice"), "--config", server.configFile, "--connection-type", "WEBSOCKET", "--json"], { cwd: work, env: A.env });
      expect(JSON.parse(v.stdout)).toMatchObject({ accepted: true, user: "alice@example.com" });
    } finally {
      c.close();
      await server.stop();
    }
  });

  it("an mqtt block starts once the server sets server_name and JetStream (else it refuses to start)", async () => {
    const mp = await freePort();
    const s = snippet("mqtt.conf", ["--server", "plain", "--mqtt-listen", `127.0.0.1:${mp}`]);
    expect(s.stderr).toContain("server_name");
    const bin = tool("nats-server");
    const bare = wrap("mqtt-bare.conf", [], s.file);
    const r = run("timeout", ["5", bin, "-c", bare], { cwd: work });
    expect(r.stdout + r.stderr).toContain("mqtt requires server name to be explicitly set");
    const full = wrap("mqtt-main.conf", ["server_name: mqtt1", `jetstream { store_dir: ${JSON.stringify(path.join(work, "js"))} }`], s.file);
    const server = await startNatsServer(full, { debug: false });
    expect(server.log()).toContain(`Listening for MQTT clients on tls://127.0.0.1:${mp}`);
    await server.stop();
  });
});
