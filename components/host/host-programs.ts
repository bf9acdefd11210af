// mailfleet's own programs on the host: plain files under files/ (paths mirror the host), linted
// by the unit tests (shellcheck, perl -c), installed by the bootstrap step of DebianHost.
import * as fs from "fs";
import * as path from "path";

export const FILES_DIR = path.join(__dirname, "..", "..", "files");

/** Every host program, with the path it is installed at (docs/host-apply.md). */
export const HOST_PROGRAMS = [
  "/usr/local/sbin/mailfleet-apply",
  "/usr/local/sbin/mailfleet-reload",
  "/usr/local/sbin/mailfleet-users",
  "/usr/local/sbin/mailfleet-queue-cleanup",
  "/usr/local/sbin/mailfleet-drift",
  "/usr/local/sbin/mailfleet-repair",
  "/usr/local/sbin/mailfleet-dhparams",
  "/usr/local/sbin/mailfleet-acme",
  "/usr/local/sbin/mailfleet-dns",
  "/usr/local/sbin/mailfleet-imap-gate",
  "/etc/mailfleet/reload.d/postfix",
  "/etc/mailfleet/reload.d/dovecot",
  "/etc/mailfleet/reload.d/systemd",
  "/etc/mailfleet/reload.d/rspamd",
  "/etc/mailfleet/reload.d/postsrsd",
];

/** The programs as files to install: path, mode and content. */
export function hostPrograms(): Array<{ path: string; mode: string; content: string }> {
  return HOST_PROGRAMS.map((p) => ({ path: p, mode: "0755", content: fs.readFileSync(path.join(FILES_DIR, p), "utf8") }));
}
