// The size of the host, as the package step reads it there (nproc, /proc/meminfo): what
// Dovecot's limits derive from (docs/dovecot.md#capacity).

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
