/**
 * Go's x509 domainToReverseLabels (Go 1.19, the toolchain of nats-server 2.9.10), the one rule for what
 * x509 takes as a domain: in a DNS SAN, an email SAN's domain, a URI SAN's host, a name constraint.
 * Labels are taken from the right and none may be empty or hold a byte outside 0x21..0x7E; taking them
 * stops when nothing is left, so one leading dot is accepted (".a.b"), while a trailing dot, "..", or
 * "." alone is not. Returns the labels, rightmost first, or null.
 */
export function reverseLabels(domain: string): string[] | null {
  const labels: string[] = [];
  let rest = domain;
  while (rest.length > 0) {
    const i = rest.lastIndexOf(".");
    labels.push(rest.slice(i + 1));
    rest = i < 0 ? "" : rest.slice(0, i);
  }
  for (const l of labels) if (l === "" || !/^[\x21-\x7e]+$/.test(l)) return null;
  return labels;
}
