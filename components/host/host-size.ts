// The size of the host, as the package step reads it there (nproc, /proc/meminfo): what
// Dovecot's and Postfix's limits derive from (docs/dovecot.md#capacity, docs/postfix.md#capacity).

export interface HostSize {
  cores: number;
  memMiB: number;
}

/** Parses "host-size: cores=N memMiB=M", the line the package step prints last. */
export function parseHostSize(stdout: string | undefined): HostSize {
  const m = /^host-size: cores=([0-9]+) memMiB=([0-9]+)$/m.exec(stdout ?? "");
  if (!m) throw new Error(`the package step printed no host-size line:\n${(stdout ?? "").slice(-500)}`);
  return { cores: Number(m[1]), memMiB: Number(m[2]) };
}

/**
 * A size for renders whose checked parts do not depend on it (the security checks, the file
 * list of a bundle whose sized files wait for the real size).
 */
export const ANY_HOST_SIZE: HostSize = { cores: 1, memMiB: 1024 };

/** Memory every sizing rule leaves to the system and the daemons' fixed parts. */
export const RESERVED_MIB = 512;

/**
 * The count a memory rule gives: `override` when above 0, else one per `mibEach` of the memory
 * above RESERVED_MIB, between `min` and `max`.
 */
export function fromMemory(size: HostSize, rule: { mibEach: number; min: number; max: number }, override: number): number {
  if (override > 0) return override;
  const derived = Math.floor((size.memMiB - RESERVED_MIB) / rule.mibEach);
  return Math.min(rule.max, Math.max(rule.min, derived));
}
