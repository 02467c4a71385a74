#!/usr/bin/env python3
"""fake_dns.py - a minimal DNS server over UDP for the static binary's test.

    fake_dns.py --listen 127.0.0.153 --ready-file F NAME=IPV4 ...

Answers A queries for the NAMEs given (case-insensitive) with their address,
other query types for them with no data, and every other name with NXDOMAIN.
Port 53 (resolv.conf names no port), so it needs root; pick a loopback
address of your own (127.0.0.0/8) to stay clear of other listeners. Writes
F once bound; logs one line per query to stderr. No recursion, no TCP, no
EDNS: enough for glibc's stub resolver.
"""
import argparse
import socket
import struct
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("names", nargs="+")
    a = ap.parse_args()
    names = {}
    for x in a.names:
        n, ip = x.split("=", 1)
        names[n.lower().rstrip(".")] = socket.inet_aton(ip)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.listen, 53))
    with open(a.ready_file, "w") as f:
        f.write("ready\n")
    while True:
        q, peer = s.recvfrom(512)
        if len(q) < 17:
            continue
        tid = struct.unpack(">H", q[:2])[0]
        i, labels = 12, []
        try:
            while q[i]:
                labels.append(q[i + 1:i + 1 + q[i]].decode("ascii"))
                i += 1 + q[i]
            qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
        except (IndexError, UnicodeDecodeError, struct.error):
            continue
        question = q[12:i + 5]
        name = ".".join(labels).lower()
        # QR, opcode 0, AA, RD copied, RA
        flags = 0x8480 | (struct.unpack(">H", q[2:4])[0] & 0x0100)
        if name in names and qtype == 1:
            ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 5, 4) + names[name]
            s.sendto(struct.pack(">HHHHHH", tid, flags, 1, 1, 0, 0) + question + ans, peer)
            what = "A"
        else:
            rcode = 0 if name in names else 3
            s.sendto(struct.pack(">HHHHHH", tid, flags | rcode, 1, 0, 0, 0) + question, peer)
            what = "no data" if rcode == 0 else "NXDOMAIN"
        print("query %s type %d: %s" % (name, qtype, what), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
