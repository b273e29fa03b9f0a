/** Moved to src/gocompat/gourl.ts (a Go-compatibility parser below pki, which pki may import); kept for old importers. */
export * from "../gocompat/gourl";
