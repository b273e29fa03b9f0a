/** The DER of the first PEM block with this label. */
import { pemBlocks } from "../pki/pem";
import { inputError } from "../errors";

export function fromPem(text: string, label: string): Buffer {
  const b = pemBlocks(text, label).find((x) => x.label === label);
  if (!b) throw inputError(`no ${label} in it`);
  return b.der;
}
