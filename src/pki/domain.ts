/** Moved to src/gocompat/domain.ts (Go-compatibility parsers depend on nothing); kept for old importers. */
export * from "../gocompat/domain";
