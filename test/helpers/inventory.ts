/**
 * The inventory as the tests read it: through the file store (src/store/store.ts), which assembles
 * it from inventory.json's header and the record log (db/), or reads an old single-file one as it
 * is. Tests never parse the store's files themselves (its format is the store's business).
 */
import { Store } from "../../src/store/store";

/** The whole inventory (header and every record, in inventory order). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read it as the JSON it was (untyped)
export function readInventory(dir: string): any {
  return new Store(dir).readInventory();
}

/** The inventory as one text (to compare states: equal text, equal inventory). */
export function inventoryText(dir: string): string {
  return JSON.stringify(readInventory(dir), null, 2) + "\n";
}
