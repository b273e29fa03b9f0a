/** `nkey set <name> ...`: as `client set`, for an NKey user. */
export function run(args: string[], o: Record<string, any>): void {
  (require("../client/set") as typeof import("../client/set")).run(args, o, undefined, "nkey");
}
