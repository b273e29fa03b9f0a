/** `nkey set <name> ...`: as `client set`, for an NKey user. */
import { run as runClientSet } from "../client/set";

export function run(args: string[], o: Record<string, any>): Promise<void> {
  return runClientSet(args, o, undefined, "nkey");
}
