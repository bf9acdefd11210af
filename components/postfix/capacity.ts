// Pure: the host's size -> Postfix's process and per-client limits (docs/postfix.md#capacity).
// The size is the package step's (cores from nproc, memory from /proc/meminfo);
// mailfleet:smtpdMaxProcesses overrides the process count the rule derives.
import { fromMemory, HostSize } from "../host/host-size";

export interface PostfixCapacity {
  /**
   * smtpd processes per service (master.cf maxproc of port 25's smtpd behind postscreen, 587,
   * 465), and the clients postscreen screens or hands on at once before it answers 421. Other
   * services keep Postfix's default_process_limit of 100.
   */
  processes: number;
  /**
   * Concurrent port-25 sessions one client address may hold (smtpd_client_connection_count_limit
   * of the smtpd behind postscreen, and postscreen's own): a tenth of the processes, so a few
   * slow or hostile senders cannot hold them all.
   */
  perClientConnections: number;
}

/**
 * Memory budget per smtpd process of one service: 16 MiB. An idle smtpd takes about 2.1 MiB
 * (proportional set size, Debian 12), so the three services together stay under 40 % of the
 * memory above the reserve. Between Postfix's default of 100 and 1,000.
 */
const PROCESSES = { mibEach: 16, min: 100, max: 1000 };
const MIN_PER_CLIENT = 10;
/** Postfix's own default for smtpd_client_connection_count_limit. */
const MAX_PER_CLIENT = 50;

/**
 * Processes = (memory - 512 MiB) / 16 MiB, between 100 (Postfix's default) and 1,000 (a 2 GiB
 * host: 100; 8 GiB: 480), unless smtpdMaxProcesses (> 0) says otherwise. Per client: a tenth of
 * that, between 10 and 50.
 */
export function postfixCapacity(size: HostSize, smtpdMaxProcesses: number): PostfixCapacity {
  const processes = fromMemory(size, PROCESSES, smtpdMaxProcesses);
  return {
    processes,
    perClientConnections: Math.min(MAX_PER_CLIENT, Math.max(MIN_PER_CLIENT, Math.floor(processes / 10))),
  };
}
