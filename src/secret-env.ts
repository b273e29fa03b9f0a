/**
 * The environment variables that carry secrets (design.md "Secrets"): every one mtlsctl reads. The
 * CLI takes them out of process.env when it starts (src/cli/context.ts takeEnvSecrets), so no program
 * it starts inherits one; a program the library starts on a user's behalf (the agent's --exec hook)
 * gets the environment without them.
 */
export const SECRET_ENV = [
  "MTLSCTL_PASSPHRASE", // the CA key's passphrase (and a PKCS#11 PIN, a CSR key's passphrase)
  "MTLSCTL_ROOT_PASSPHRASE", // the root's, for `ca init --intermediate --root-dir`
  "MTLSCTL_NEW_PASSPHRASE", // `ca passphrase`: the new one
  "MTLSCTL_KEY_PASSPHRASE", // `ca import`: the imported key's
  "MTLSCTL_P12_PASSWORD",
  "MTLSCTL_BACKUP_PASSWORD",
  "PGPASSWORD", // libpq's: the database store's password (src/store/pg/pg-store.ts)
] as const;

/** A copy of `env` without the secret variables (PATH, HOME and the rest kept). */
export function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const k of SECRET_ENV) delete out[k];
  return out;
}
