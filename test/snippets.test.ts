/**
 * The snippets run for real, on 127.0.0.1 with free ports:
 *  - `config node`: the emitted server code is written to a file and started with node; the emitted
 *    `config curl` command (port substituted) gets 200 with the issued client certificate, and is
 *    refused without a certificate and with one from another CA. curl is the real /usr/bin/curl.
 *  - `config java --client`: the emitted JSSE program (javac + java) loads the client p12 as its
 *    KeyManager and the trust store as its TrustManager, made with the `mtlsctl export` commands its
 *    comments show, and calls that Node server: it succeeds, and fails with another CA's certificate.
 *  - `config java` (mu-server): mu-server cannot be installed here, so the snippet says so; the two
 *    files it loads (the server p12 and the trust store) are proven by a JSSE HTTPS server (the JDK's
 *    com.sun.net.httpserver, need-client-auth) that loads exactly those files, called by curl and by
 *    the JSSE client.
 * A missing tool (node, curl, javac, java) fails the test.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { BIN, makeStore, mtls, mtlsOk, run, tmpDir, tool } from "./helpers/cli";
import { freePort } from "./helpers/nats";

const PW = "snippet-pass";
let ca1: ReturnType<typeof makeStore>;
let ca2: ReturnType<typeof makeStore>;
let work: string;
let shimDir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  ca1 = makeStore({ name: "Snippet CA" });
  ca2 = makeStore({ name: "Other CA" });
  mtlsOk(["server", "issue", "web", "--dns", "localhost", "--ip", "127.0.0.1"], { cwd: ca1.cwd, env: ca1.env });
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd: ca1.cwd, env: ca1.env });
  mtlsOk(["client", "issue", "bob", "--key", "rsa-2048"], { cwd: ca1.cwd, env: ca1.env });
  mtlsOk(["client", "issue", "mallory", "--email", "mallory@example.com"], { cwd: ca2.cwd, env: ca2.env });
  work = tmpDir("mtlsctl-snippets-");
  // `mtlsctl` on PATH, for running the commands the snippets' comments show
  shimDir = path.join(work, "bin");
  fs.mkdirSync(shimDir);
  fs.writeFileSync(path.join(shimDir, "mtlsctl"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** Starts a server process and waits for `ready` to match its stdout; resolves with the match. */
function startServer(cmd: string, args: string[], env: Record<string, string>, ready: RegExp, cwd = work): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve(m);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${code}: ${out}`));
    });
  });
}

/** Runs a shell command line as a user would, with /usr/bin first on PATH (so curl is /usr/bin/curl). */
function sh(line: string, env: Record<string, string | undefined> = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, PATH: `${shimDir}:/usr/bin:/bin`, ...env } as NodeJS.ProcessEnv;
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return run("/bin/sh", ["-c", line], { cwd: work, env: e });
}

test("curl on PATH is the real /usr/bin/curl", () => {
  expect(tool("curl")).toBe("/usr/bin/curl");
  expect(sh("command -v curl").stdout.trim()).toBe("/usr/bin/curl");
});

describe("config node + config curl", () => {
  let port: number;
  let curlAlice: string;
  beforeAll(async () => {
    const serverJs = path.join(work, "server.js");
    mtlsOk(["config", "node", "--out", serverJs], { cwd: ca1.cwd, env: ca1.env });
    port = await freePort();
    await startServer(tool("node"), [serverJs], { PORT: String(port), HOST: "127.0.0.1" }, /listening on 127\.0\.0\.1 port \d+/);
    curlAlice = mtlsOk(["config", "curl", "alice"], { cwd: ca1.cwd, env: ca1.env }).stdout;
  });

  test("the Node snippet asks for and checks client certificates, with absolute store paths", () => {
    const js = mtlsOk(["config", "node"], { cwd: ca1.cwd, env: ca1.env }).stdout;
    expect(js).toMatch(/requestCert: true/);
    expect(js).toMatch(/rejectUnauthorized: true/);
    expect(js).toContain(`ca: fs.readFileSync(${JSON.stringify(path.join(ca1.dir, "ca.crt"))})`);
    expect(js).toContain(JSON.stringify(path.join(ca1.dir, "private", "web.key")));
    expect(js).toMatch(/getPeerCertificate\(\)/);
  });

  test("the curl snippet: --cert, --key, --cacert with absolute paths, never -k", () => {
    expect(curlAlice).toContain(`--cert ${path.join(ca1.dir, "issued", "alice.crt")}`);
    expect(curlAlice).toContain(`--key ${path.join(ca1.dir, "private", "alice.key")}`);
    expect(curlAlice).toContain(`--cacert ${path.join(ca1.dir, "ca.crt")}`);
    expect(curlAlice).toContain("https://localhost:8443/");
    const commandLines = curlAlice.split("\n").filter((l) => !l.startsWith("#"));
    expect(commandLines.join(" ")).not.toMatch(/(^|\s)(-k|--insecure)(\s|$)/);
  });

  test("the emitted curl command gets 200 with the issued client certificate", () => {
    const r = sh(curlAlice.replace(":8443/", `:${port}/`));
    expect(r.stderr).not.toMatch(/curl: \(/); // only the progress meter (stdout is not a terminal)
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hello alice\n");
    // an RSA client too
    const bob = mtlsOk(["config", "curl", "bob"], { cwd: ca1.cwd, env: ca1.env }).stdout;
    expect(sh(bob.replace(":8443/", `:${port}/`)).stdout).toBe("hello bob\n");
  });

  test("refused without a client certificate", () => {
    const r = sh(`curl --cacert ${path.join(ca1.dir, "ca.crt")} https://localhost:${port}/`);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain("hello");
    expect(r.stderr).toMatch(/certificate required|reset|alert/i);
  });

  test("refused with a certificate from another CA", () => {
    const line = curlAlice
      .replace(":8443/", `:${port}/`)
      .replace(path.join(ca1.dir, "issued", "alice.crt"), path.join(ca2.dir, "issued", "mallory.crt"))
      .replace(path.join(ca1.dir, "private", "alice.key"), path.join(ca2.dir, "private", "mallory.key"));
    expect(line).toContain("mallory.crt");
    const r = sh(line);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain("hello");
  });

  test("browser-style PKCS#12 clients (what a browser or OS key store imports): modern and --legacy p12 with curl and Node's pfx; another CA's p12 refused", async () => {
    const caPem = fs.readFileSync(path.join(ca1.dir, "ca.crt"));
    const p12 = (store: { cwd: string; env: Record<string, string> }, name: string, legacy: boolean) => {
      const out = path.join(work, `${name}${legacy ? "-legacy" : ""}-browser.p12`);
      mtlsOk(["export", name, "--format", "p12", ...(legacy ? ["--legacy"] : []), "--out", out, "--force"], { cwd: store.cwd, env: { ...store.env, MTLSCTL_P12_PASSWORD: PW } });
      return out;
    };
    const viaNode = (pfx: string) =>
      new Promise<string>((resolve, reject) => {
        const req = https.get({ host: "127.0.0.1", servername: "localhost", port, path: "/", pfx: fs.readFileSync(pfx), passphrase: PW, ca: caPem }, (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve(`${res.statusCode} ${body}`));
        });
        req.on("error", reject);
      });
    for (const legacy of [false, true]) {
      const alice = p12(ca1, "alice", legacy);
      // curl (OpenSSL): the p12 alone holds the key and the certificate
      const r = sh(`curl -sS --cert-type P12 --cert ${alice}:${PW} --cacert ${path.join(ca1.dir, "ca.crt")} https://localhost:${port}/`);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("hello alice\n");
      expect(await viaNode(alice)).toBe("200 hello alice\n"); // Node (OpenSSL 3) reads both: 3DES and SHA-1 are in its default provider, unlike RC2
    }
    const mallory = p12(ca2, "mallory", false);
    const refused = sh(`curl -sS --cert-type P12 --cert ${mallory}:${PW} --cacert ${path.join(ca1.dir, "ca.crt")} https://localhost:${port}/`);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain("hello");
    await expect(viaNode(mallory)).rejects.toThrow(/alert|reset|unknown ca|socket hang up|certificate/i);
  });

  test("config curl: a placeholder URL (with a warning) when no server names a host; --url must be https", () => {
    const s = makeStore({ name: "Bare CA" });
    mtlsOk(["client", "issue", "zed"], { cwd: s.cwd, env: s.env });
    const r = mtlsOk(["config", "curl", "zed"], { cwd: s.cwd, env: s.env });
    expect(r.stdout).toContain("https://server.example:8443/");
    expect(r.stderr).toMatch(/placeholder/);
    const bad = mtls(["config", "curl", "zed", "--url", "http://x/"], { cwd: s.cwd, env: s.env });
    expect(bad.code).toBe(3);
    const none = mtls(["config", "node"], { cwd: s.cwd, env: s.env });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no valid server certificate/);
  });

  describe("config java --client: a JSSE client with the client p12 and the trust store", () => {
    let classes: string;
    let p12Dir: string;
    beforeAll(() => {
      p12Dir = path.join(work, "java-p12");
      fs.mkdirSync(p12Dir);
      classes = path.join(work, "java-classes");
      fs.mkdirSync(classes);
      const src = path.join(work, "MtlsClient.java");
      mtlsOk(["config", "java", "--client", "alice", "--p12-dir", p12Dir, "--out", src], { cwd: ca1.cwd, env: ca1.env });
      const text = fs.readFileSync(src, "utf8");
      // run the export commands exactly as the comments show them
      const exports = text.split("\n").filter((l) => /^\/\/\s+mtlsctl .* export /.test(l)).map((l) => l.replace(/^\/\/\s+/, ""));
      expect(exports).toHaveLength(2);
      for (const cmd of exports) {
        const r = sh(cmd, { MTLSCTL_P12_PASSWORD: PW, MTLSCTL_DIR: undefined });
        if (r.code !== 0) throw new Error(`${cmd}: ${r.stdout}${r.stderr}`);
      }
      expect(fs.existsSync(path.join(p12Dir, "alice.p12"))).toBe(true);
      expect(fs.existsSync(path.join(p12Dir, "ca-truststore.p12"))).toBe(true);
      const c = run(tool("javac"), ["-d", classes, src]);
      if (c.code !== 0) throw new Error(`javac: ${c.stdout}${c.stderr}`);
    });

    test("a real mutual-TLS HTTPS request to the Node server succeeds", () => {
      const r = run(tool("java"), ["-cp", classes, "MtlsClient", `https://localhost:${port}/`], { env: { ...process.env, MTLSCTL_P12_PASSWORD: PW } });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe("200 hello alice");
    });

    test("it fails with a certificate from another CA", () => {
      const swapped = path.join(p12Dir, "alice.p12");
      const keep = fs.readFileSync(swapped);
      const mallory = path.join(work, "mallory.p12");
      mtlsOk(["export", "mallory", "--format", "p12", "--out", mallory], { cwd: ca2.cwd, env: { ...ca2.env, MTLSCTL_P12_PASSWORD: PW } });
      fs.copyFileSync(mallory, swapped);
      try {
        const r = run(tool("java"), ["-cp", classes, "MtlsClient", `https://localhost:${port}/`], { env: { ...process.env, MTLSCTL_P12_PASSWORD: PW } });
        expect(r.code).not.toBe(0);
        expect(r.stdout).not.toContain("200");
        // TLS 1.3: the client learns of the refusal after its handshake, when it writes the request
        expect(r.stderr).toMatch(/SSL|Connection reset|handshake|certificate|Error writing to server|Broken pipe/i);
      } finally {
        fs.writeFileSync(swapped, keep);
      }
    });

    test("it refuses a server outside the trust store (the trust store is really used)", async () => {
      // the other CA's server: its certificate does not chain to Snippet CA
      mtlsOk(["server", "issue", "web2", "--dns", "localhost", "--ip", "127.0.0.1"], { cwd: ca2.cwd, env: ca2.env });
      const js = path.join(work, "server-ca2.js");
      mtlsOk(["config", "node", "--server", "web2", "--out", js], { cwd: ca2.cwd, env: ca2.env });
      const p2 = await freePort();
      await startServer(tool("node"), [js], { PORT: String(p2), HOST: "127.0.0.1" }, /listening on/);
      const r = run(tool("java"), ["-cp", classes, "MtlsClient", `https://localhost:${p2}/`], { env: { ...process.env, MTLSCTL_P12_PASSWORD: PW } });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/PKIX path building failed|unable to find valid certification path/);
    });
  });
});

/** A JSSE HTTPS server that loads exactly what the mu-server snippet loads: the server p12 as its key store and the trust store for client certificates. */
const JSSE_SERVER = `
import com.sun.net.httpserver.*;
import javax.net.ssl.*;
import java.io.*;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;

public class JsseMtlsServer {
    public static void main(String[] args) throws Exception {
        char[] pw = System.getenv("MTLSCTL_P12_PASSWORD").toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(args[0])) { ks.load(in, pw); }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(args[1])) { ts.load(in, pw); }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx) {
            public void configure(HttpsParameters p) {
                SSLParameters sp = ctx.getDefaultSSLParameters();
                sp.setNeedClientAuth(true);
                p.setSSLParameters(sp);
            }
        });
        server.createContext("/", ex -> {
            String who = ((HttpsExchange) ex).getSSLSession().getPeerPrincipal().getName();
            byte[] body = ("hello " + who + "\\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        System.out.println("listening on port " + server.getAddress().getPort());
    }
}
`;

describe("config java (mu-server): the files it loads serve mutual TLS through JSSE", () => {
  let port: number;
  let snippet: string;
  let p12Dir: string;
  beforeAll(async () => {
    p12Dir = path.join(work, "mu-p12");
    fs.mkdirSync(p12Dir);
    snippet = mtlsOk(["config", "java", "--p12-dir", p12Dir], { cwd: ca1.cwd, env: ca1.env }).stdout;
    for (const cmd of snippet.split("\n").filter((l) => /^\/\/\s+mtlsctl .* export /.test(l)).map((l) => l.replace(/^\/\/\s+/, ""))) {
      const r = sh(cmd, { MTLSCTL_P12_PASSWORD: PW, MTLSCTL_DIR: undefined });
      if (r.code !== 0) throw new Error(`${cmd}: ${r.stdout}${r.stderr}`);
    }
    const dir = path.join(work, "jsse-server");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "JsseMtlsServer.java"), JSSE_SERVER);
    const c = run(tool("javac"), ["-d", dir, path.join(dir, "JsseMtlsServer.java")]);
    if (c.code !== 0) throw new Error(`javac: ${c.stdout}${c.stderr}`);
    const server = path.join(p12Dir, "web.p12");
    const trust = path.join(p12Dir, "ca-truststore.p12");
    port = Number((await startServer(tool("java"), ["-cp", dir, "JsseMtlsServer", server, trust], { MTLSCTL_P12_PASSWORD: PW }, /listening on port (\d+)/))[1]);
  });

  test("the snippet uses HttpsConfigBuilder with the PKCS#12 key store and the trust store, and says mu-server is not run here", () => {
    expect(snippet).toContain(`new FileInputStream(${JSON.stringify(path.join(p12Dir, "ca-truststore.p12"))})`);
    expect(snippet).toContain(`.withKeystore(new File(${JSON.stringify(path.join(p12Dir, "web.p12"))}))`);
    expect(snippet).toMatch(/\.withKeystoreType\("PKCS12"\)/);
    expect(snippet).toMatch(/\.withClientCertificateTrustManager\(/);
    expect(snippet).toMatch(/mtlsctl does not ship or run mu-server/);
    expect(snippet).toMatch(/clientCertificate\(\)/);
  });

  test("the server p12 is a PrivateKeyEntry and the trust store a trustedCertEntry for keytool", () => {
    const k = run(tool("keytool"), ["-list", "-storetype", "PKCS12", "-keystore", path.join(p12Dir, "web.p12"), "-storepass", PW]);
    expect(k.stdout).toMatch(/web, .*PrivateKeyEntry/);
    const t = run(tool("keytool"), ["-list", "-storetype", "PKCS12", "-keystore", path.join(p12Dir, "ca-truststore.p12"), "-storepass", PW]);
    expect(t.stdout).toMatch(/trustedCertEntry/);
  });

  test("curl with the issued client certificate gets 200 from the JSSE server; without one, or with another CA's, it is refused", () => {
    const p = port;
    const curl = mtlsOk(["config", "curl", "alice"], { cwd: ca1.cwd, env: ca1.env }).stdout.replace(":8443/", `:${p}/`);
    const ok = sh(curl);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^hello .*CN=alice/);
    expect(sh(`curl --cacert ${path.join(ca1.dir, "ca.crt")} https://localhost:${p}/`).code).not.toBe(0);
    const other = curl.replace(path.join(ca1.dir, "issued", "alice.crt"), path.join(ca2.dir, "issued", "mallory.crt")).replace(path.join(ca1.dir, "private", "alice.key"), path.join(ca2.dir, "private", "mallory.key"));
    expect(sh(other).code).not.toBe(0);
  });
});
