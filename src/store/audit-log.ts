/** The file store's audit.log: JSON Lines, one event a line, each append flushed; no secret ever goes in. */
import * as fs from "node:fs";
import type { AuditEvent } from "./types";
import { appendFlushed } from "./log";
import { flushAllAsync } from "./flusher";

/** Appends events (stamped with now unless they carry their own time) and flushes them. */
export function appendAuditLog(file: string, events: AuditEvent[]): void {
  if (!events.length) return;
  const at = new Date().toISOString();
  const text = events.map((e) => JSON.stringify({ at: e.at ?? at, ...e })).join("\n") + "\n";
  appendFlushed(file, text);
}

/** appendAuditLog with the flush on the thread pool (the online CA's asynchronous group commit). */
export async function appendAuditLogAsync(file: string, events: AuditEvent[]): Promise<void> {
  if (!events.length) return;
  const at = new Date().toISOString();
  const text = events.map((e) => JSON.stringify({ at: e.at ?? at, ...e })).join("\n") + "\n";
  const fd = fs.openSync(file, "a", 0o644);
  try {
    fs.writeSync(fd, text);
    await flushAllAsync([{ fd, file }]);
  } finally {
    fs.closeSync(fd);
  }
}

/** Every event in the file, oldest first; a line cut short by a crash is skipped. */
export function readAuditLog(file: string): AuditEvent[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: AuditEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      /* a line cut short by a crash */
    }
  }
  return out;
}
