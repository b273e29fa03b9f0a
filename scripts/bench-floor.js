#!/usr/bin/env node
/**
 * Bench (issue 9): the floor under `mtlsctl explain cert.pem`'s start-up. The least any Node program can do
 * to explain a certificate: load node:crypto, parse the certificate and its CA, check the signature, print
 * the subject, SANs and fingerprint. No CLI, no mapping rules, no store. bench.js times it beside
 * `node -e 0` and explain, so the table shows how much of explain's ratio is Node's own.
 * usage: node scripts/bench-floor.js CERT CA
 */
"use strict";
const fs = require("node:fs");
const crypto = require("node:crypto");

const leaf = new crypto.X509Certificate(fs.readFileSync(process.argv[2]));
const ca = new crypto.X509Certificate(fs.readFileSync(process.argv[3]));
const ok = leaf.verify(ca.publicKey);
fs.writeSync(1, `${leaf.subject}\n${leaf.subjectAltName}\n${leaf.fingerprint256}\nsigned by ${ca.subject}: ${ok}\n`);
process.exitCode = ok ? 0 : 1;
