#!/usr/bin/python3
# Verifies the DKIM signatures of a message on stdin (python3-dkim), looking the keys up with dig
# at one DNS server: dkim-verify.py SERVER [PORT]. Prints one line per signature,
# "pass d=DOMAIN s=SELECTOR" or "fail d=DOMAIN s=SELECTOR", and exits 1 when any fails or none is there.
import subprocess
import sys

import dkim

server = sys.argv[1]
port = sys.argv[2] if len(sys.argv) > 2 else "53"


def txt(name, timeout=5):
    """The TXT records of a name as bytes, each record's strings joined (RFC 6376 3.6.2.2)."""
    name = name.decode() if isinstance(name, bytes) else name
    out = subprocess.run(["dig", "-r", "+short", "+norec", "-p", port, "@" + server, name.rstrip("."), "TXT"],
                         capture_output=True, text=True, timeout=timeout, check=True).stdout
    records = []
    for line in out.splitlines():
        parts, i = [], 0
        while i < len(line):
            if line[i] == '"':
                j, buf = i + 1, ""
                while line[j] != '"':
                    if line[j] == "\\":
                        j += 1
                    buf += line[j]
                    j += 1
                parts.append(buf)
                i = j + 1
            else:
                i += 1
        records.append("".join(parts))
    return records[0].encode() if records else None


message = sys.stdin.buffer.read()
d = dkim.DKIM(message)
count = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
ok = count > 0
for i in range(count):
    good = d.verify(idx=i, dnsfunc=txt)
    tags = d.signature_fields
    print(("pass" if good else "fail"), "d=" + tags.get(b"d", b"?").decode(), "s=" + tags.get(b"s", b"?").decode())
    ok = ok and good
if count == 0:
    print("no DKIM-Signature")
sys.exit(0 if ok else 1)
