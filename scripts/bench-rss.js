/**
 * Preload for the bench (node -r scripts/bench-rss.js ...): at exit, writes the process's peak
 * resident set size in KiB (process.resourceUsage().maxRSS) to the file named by BENCH_RSS_OUT.
 */
"use strict";
const out = process.env.BENCH_RSS_OUT;
if (out) process.on("exit", () => require("node:fs").writeFileSync(out, String(process.resourceUsage().maxRSS)));
