// Section: DKIM signing of submitted mail and its key rotation (docs/dkim.md).
import { ConfigReader, k, show } from "./reader";

export interface DkimSettings {
  /** Sign submitted mail (Rspamd as a milter on 587/465). */
  enabled: boolean;
  /** The selector that signs. */
  selector: string;
  /** A selector whose public key stays published during a rotation; "" none. */
  previousSelector: string;
  keyBits: number;
}

/** A selector is one DNS label (RFC 6376 3.1); lower case, so that it names one key file. */
const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function readDkim(r: ConfigReader): DkimSettings {
  const enabled = r.boolean("dkimSigning");
  const selector = (r.text("dkimSelector") ?? "").trim();
  const previousSelector = (r.text("dkimPreviousSelector") ?? "").trim();
  for (const [key, value] of [["dkimSelector", selector], ["dkimPreviousSelector", previousSelector]] as const) {
    if ((value !== "" || key === "dkimSelector") && !SELECTOR.test(value)) {
      r.bad(k(key), `${show(value)} is not a DKIM selector (one DNS label: lower-case letters, digits and inner "-", e.g. mf2027)`);
    }
  }
  if (previousSelector !== "" && previousSelector === selector) {
    r.bad(k("dkimPreviousSelector"), `${show(previousSelector)} is the signing selector itself; set the selector that signed before the rotation, or leave it empty`);
  }
  if (!enabled && previousSelector !== "") {
    r.bad(k("dkimPreviousSelector"), "is set but mailfleet:dkimSigning is false, so no key is published; remove it or turn signing on");
  }
  return { enabled, selector, previousSelector, keyBits: r.integer("dkimKeyBits") };
}
