#!/usr/bin/env node
// Demo helper: connect to a local nats-server with each client certificate (nats.js 3,
// `@nats-io/transport-node`) and print
// the user the server chose, read from its monitoring endpoint (/connz?auth=true).
"use strict";
const { connect } = require("@nats-io/transport-node");
const fs = require("node:fs");
const [, , port, mport, ca, ...clients] = process.argv;

(async () => {
  let failed = 0;
  for (const spec of clients) {
    const [name, cert, key] = spec.split(":");
    const tag = `demo-${name}-${process.pid}`;
    try {
      const nc = await connect({ servers: `127.0.0.1:${port}`, name: tag, reconnect: false, timeout: 5000,
        tls: { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8"), ca: fs.readFileSync(ca, "utf8") } });
      await nc.flush();
      const connz = await (await fetch(`http://127.0.0.1:${mport}/connz?auth=true`)).json();
      const c = (connz.connections || []).find((x) => x.name === tag);
      console.log(`  ${name.padEnd(8)} -> nats-server mapped it to user ${JSON.stringify(c && c.authorized_user)}`);
      await nc.close();
    } catch (e) {
      failed++;
      console.log(`  ${name.padEnd(8)} -> refused: ${e.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
