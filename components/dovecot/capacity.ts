// Pure: the host's size -> Dovecot's process and connection limits (docs/dovecot.md#capacity).
// The size is read on the host by the package step (cores from nproc, memory from /proc/meminfo);
// mailfleet:imapMaxSessions overrides the session count the rule derives.
import { fromMemory, HostSize } from "../host/host-size";

export interface DovecotCapacity {
  /**
   * Logged-in IMAP sessions at once. A login beyond them is told `* BYE [UNAVAILABLE]` by
   * mailfleet-imap-gate, the post-login script.
   */
  imapSessions: number;
  /** imap-login processes in high-performance mode (one per core). */
  loginProcesses: number;
  /**
   * Connections each login process serves (TLS sessions, logged in or not): the sessions plus
   * a reserve, so a client beyond them gets a slot, and with it the gate's answer.
   */
  loginClientsPerProcess: number;
  /**
   * service imap process_limit: above the login slots, so a login that succeeds always gets its
   * imap process (where the gate runs). Dovecot closes a login that finds imap at its limit
   * without a word.
   */
  imapProcessLimit: number;
  /** auth_worker_max_count: password checks run in parallel in the auth workers, one per core. */
  authWorkers: number;
  /** default_client_limit: anvil and the log service hear from every imap and login process. */
  clientLimit: number;
  /**
   * service auth client_limit: every smtpd that offers AUTH (587, 465, and 25 when allowed)
   * holds a connection to the auth service, and so does each login process; 200 more for LMTP's
   * userdb lookups and doveadm.
   */
  authClientLimit: number;
}

/** Memory one IMAP session takes (4 MiB: its imap process plus its TLS state in a login process), and the bounds. */
const SESSIONS = { mibEach: 4, min: 100, max: 20000 };

/**
 * Sessions = (memory - 512 MiB) / 4 MiB, between 100 and 20,000 (a 2 GiB host: 384; 8 GiB: 1,920),
 * unless imapMaxSessions (> 0) says otherwise. Login processes and auth workers: one per core.
 *
 * The limit that turns clients away is the gate's count of imap processes (one per session).
 * Dovecot 2.3 itself has no answer for a client beyond its limits: with the login slots full it
 * leaves the newcomer in the listen queue and closes it unanswered after 10 s, and a login that
 * finds the imap service full is closed before its BYE is written (src/master/service-monitor.c,
 * service_drop_connections; src/login-common/client-common-auth.c). So the login slots and the
 * imap processes both stay above the sessions, and the gate answers.
 */
export function dovecotCapacity(size: HostSize, imapMaxSessions: number, smtpdProcesses: number): DovecotCapacity {
  const imapSessions = fromMemory(size, SESSIONS, imapMaxSessions);
  const loginProcesses = Math.max(1, size.cores);
  // 5 % and 16 more slots than sessions: clients beyond the sessions still reach the gate, which
  // tells them so, instead of waiting in the listen queue until Dovecot drops them.
  const loginClientsPerProcess = Math.ceil((imapSessions + Math.ceil(imapSessions / 20) + 16) / loginProcesses);
  const slots = loginProcesses * loginClientsPerProcess;
  // Room for imap processes still exiting after their session's login slot was freed.
  const imapProcessLimit = slots + Math.ceil(slots / 20) + 16;
  return {
    imapSessions,
    loginProcesses,
    loginClientsPerProcess,
    imapProcessLimit,
    authWorkers: Math.max(1, size.cores),
    // Never below Dovecot's own default of 1000.
    clientLimit: Math.max(1000, imapProcessLimit + slots + 100),
    authClientLimit: Math.max(1000, 3 * smtpdProcesses + loginProcesses + 200),
  };
}
