#!/usr/bin/python3
"""Captures real netlink bytes from the kernel as seed corpora for the fuzz targets.

Run through `fuzz/capture.sh`, which makes a throwaway network namespace and runs this script inside
it (`ip netns exec`): everything below changes only that namespace. It builds the article's host
(bridge `virbr0`, uplink `eth0` with labelled addresses `eth0:0`/`eth0:1`, a default route), loads the
firewalls natkeeper meets (libvirt's iptables and nftables rules, Docker's FORWARD DROP, a ruleset that
uses every expression natkeeper-nft models) and, when `NATKEEPER` names the binary, natkeeper's own
table — while it records every datagram the kernel sends:

* `corpus/nft_notifications/`: nf_tables event datagrams (`NFNLGRP_NFTABLES`) and dump replies
  (tables, chains, rules, sets, elements of every set, generation), as `parse_notifications` reads them;
* `fixtures/ruleset.bin`: all the nf_tables dumps in one buffer (the policy target's kernel state);
* `corpus/rtnl_decode/`: rtnetlink event datagrams (links, IPv4/IPv6 addresses, routes) and dump
  replies (`RTM_GETLINK`, `RTM_GETADDR`, `RTM_GETROUTE`), as `natkeeper_rtnl::Event::decode` reads them.

Usage: ip netns exec NS python3 capture.py OUTDIR REPO
"""

import os
import socket
import struct
import subprocess
import sys

NETLINK_ROUTE = 0
NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NFNLGRP_NFTABLES = 7
RTNLGRP_LINK = 1
RTNLGRP_IPV4_IFADDR = 5
RTNLGRP_IPV4_ROUTE = 7
RTNLGRP_IPV6_IFADDR = 9
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_GETTABLE = 1
NFT_MSG_GETCHAIN = 4
NFT_MSG_GETRULE = 7
NFT_MSG_GETSET = 10
NFT_MSG_GETSETELEM = 13
NFT_MSG_GETGEN = 16
NFT_MSG_NEWSET = 9
NFTA_SET_TABLE = 1
NFTA_SET_NAME = 2
NFTA_SET_ELEM_LIST_TABLE = 1
NFTA_SET_ELEM_LIST_SET = 2
RTM_GETLINK = 18
RTM_GETADDR = 22
RTM_GETROUTE = 26

# Every expression natkeeper-nft models, in the shapes nft 1.0.6 writes them. Rules the running
# kernel lacks an expression module for (no `nft_log`, `nft_limit`, ... built in) are skipped.
SKELETON = """
table ip exprs {
  set ports { type inet_service; flags interval; elements = { 22, 80-89, 443 } }
  map fwds { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service;
            elements = { 192.168.1.201 . tcp . 8080 : 192.168.122.42 . 80 } }
  map vm { type ifname : verdict; elements = { "virbr0" : accept, "eth0" : jump sub } }
  chain sub { counter return; }
  chain pre { type nat hook prerouting priority -110; policy accept; }
  chain post { type nat hook postrouting priority 90; policy accept; }
  chain in { type filter hook input priority 0; policy accept; }
}
"""
RULES = [
    ("pre", "fib daddr type local dnat ip addr . port to ip daddr . ip protocol . th dport map @fwds"),
    ("pre", "ip saddr 10.0.0.0/8 tcp dport 1000-2000 counter dnat to 192.168.122.41:22-23"),
    ("pre", "meta l4proto udp ct mark set 0x4e4b0000"),
    ("pre", "iifname vmap @vm"),
    ("post", 'oifname "eth0" ip saddr 192.168.122.0/24 masquerade random,persistent'),
    ("post", "ip saddr 192.168.122.41 snat to 192.168.1.211"),
    ("post", "tcp dport 80 redirect to :8080"),
    ("post", "meta l4proto tcp ct mark and 0xffff0000 == 0x4e4b0000 masquerade to :1024-2048"),
    ("in", "icmp type echo-request limit rate over 1/second burst 5 packets drop"),
    ("in", 'ip length > 84 icmp type echo-request log prefix "big ping " level warn drop'),
    ("in", "tcp dport @ports ct state established,related accept"),
    ("in", "meta mark 0x1 reject with icmp type host-unreachable"),
    ("in", "tcp flags syn reject with tcp reset"),
    ("in", "meta pkttype broadcast limit rate 10 kbytes/second accept"),
    ("in", "ip dscp cs1 ip ttl 1-10 counter packets 0 bytes 0 drop"),
    ("in", "meta mark set meta mark or 0x2 accept"),
    ("in", 'ip saddr & 0.0.0.255 == 0.0.0.1 accept comment "natkeeper"'),
    ("in", "ct direction original ct status dnat accept"),
    ("in", "meta iif lo meta protocol ip accept"),
    ("in", "ip saddr . tcp dport { 10.0.0.1 . 22, 10.0.0.2 . 80 } accept"),
]


def load_exprs():
    run("nft", "-f", "-", stdin=SKELETON)
    for chain, rule in RULES:
        r = subprocess.run(["nft", "add", "rule", "ip", "exprs", chain, rule], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"skipped (this kernel refuses it): {rule}: {r.stderr.strip().splitlines()[0]}")


def nlmsg(kind, flags, seq, payload):
    return struct.pack("=IHHII", 16 + len(payload), kind, flags, seq, 0) + payload


def attr(kind, value):
    raw = struct.pack("=HH", 4 + len(value), kind) + value
    return raw + b"\0" * (-len(raw) % 4)


def nft_request(msg, family, attrs=b""):
    return nlmsg((NFNL_SUBSYS_NFTABLES << 8) | msg, NLM_F_REQUEST | NLM_F_DUMP, 0, struct.pack("=BBH", family, 0, 0) + attrs)


def messages(buf):
    """(type, payload) of each netlink message in a datagram."""
    at = 0
    while at + 16 <= len(buf):
        length, kind = struct.unpack_from("=IH", buf, at)
        if length < 16:
            return
        yield kind, buf[at + 16 : at + length]
        at += (length + 3) & ~3


def attrs(buf):
    at = 0
    while at + 4 <= len(buf):
        length, kind = struct.unpack_from("=HH", buf, at)
        if length < 4:
            return
        yield kind & 0x3FFF, buf[at + 4 : at + length]
        at += (length + 3) & ~3


class Recorder:
    def __init__(self, outdir, name):
        self.dir = os.path.join(outdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.n = 0

        self.dumps = b""

    def save(self, tag, data):
        self.n += 1
        if tag.startswith("dump-"):
            self.dumps += data
        with open(os.path.join(self.dir, f"{tag}-{self.n:03}.bin"), "wb") as f:
            f.write(data)


def sock(proto, groups):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((0, 0))
    for g in groups:
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g)
    return s


def drain(s, rec, tag):
    s.setblocking(False)
    try:
        while True:
            rec.save(tag, s.recv(1 << 20))
    except BlockingIOError:
        pass
    s.setblocking(True)


def dump(s, request, rec, tag):
    """Sends a dump request, records every reply datagram, returns the payloads of its messages."""
    s.send(request)
    out = []
    while True:
        data = s.recv(1 << 20)
        rec.save(tag, data)
        done = False
        for kind, payload in messages(data):
            if kind in (NLMSG_DONE, NLMSG_ERROR):
                done = True
            else:
                out.append((kind, payload))
        if done:
            return out


def run(*cmd, stdin=None):
    subprocess.run(cmd, input=stdin, check=True, text=True, stdout=subprocess.DEVNULL)


def main():
    outdir, repo = sys.argv[1], sys.argv[2]
    nft_rec = Recorder(outdir, "nft_notifications")
    rt_rec = Recorder(outdir, "rtnl_decode")
    nft_events = sock(NETLINK_NETFILTER, [NFNLGRP_NFTABLES])
    rt_events = sock(NETLINK_ROUTE, [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_IFADDR])

    # The article's host.
    run("ip", "link", "set", "lo", "up")
    run("ip", "link", "add", "virbr0", "type", "bridge", "stp_state", "0")
    run("ip", "addr", "add", "192.168.122.1/24", "brd", "192.168.122.255", "dev", "virbr0")
    run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
    run("ip", "addr", "add", "192.168.1.201/24", "dev", "eth0")
    run("ip", "addr", "add", "192.168.1.211/24", "dev", "eth0", "label", "eth0:0")
    run("ip", "addr", "add", "192.168.1.212/24", "dev", "eth0", "label", "eth0:1")
    run("ip", "addr", "add", "2001:db8::1/64", "dev", "eth0")
    run("ip", "link", "add", "vnet0", "type", "veth", "peer", "name", "vnet0p")
    run("ip", "link", "set", "vnet0", "master", "virbr0")
    for dev in ("eth0", "peer0", "virbr0", "vnet0", "vnet0p"):
        run("ip", "link", "set", dev, "up")
    run("ip", "route", "add", "default", "via", "192.168.1.1", "dev", "eth0")
    run("ip", "link", "add", "gone0", "type", "veth", "peer", "name", "gone1")
    run("ip", "link", "del", "gone0")
    drain(rt_events, rt_rec, "event")

    fixtures = os.path.join(repo, "tests", "fixtures")
    with open(os.path.join(fixtures, "libvirt9-iptables.rules")) as f:
        run("iptables-restore", stdin=f.read())
    drain(nft_events, nft_rec, "event-libvirt-iptables")
    with open(os.path.join(fixtures, "libvirt11-nftables.nft")) as f:
        run("nft", "-f", "-", stdin=f.read() + "\n")
    drain(nft_events, nft_rec, "event-libvirt-nftables")
    with open(os.path.join(fixtures, "docker-forward-drop.rules")) as f:
        run("iptables-restore", "--noflush", stdin=f.read())
    drain(nft_events, nft_rec, "event-docker")
    load_exprs()
    drain(nft_events, nft_rec, "event-exprs")
    natkeeper = os.environ.get("NATKEEPER")
    if natkeeper:
        for example in ("poor-man.toml", "rich-man.toml"):
            run(natkeeper, "apply", "-c", os.path.join(repo, "examples", example))
            drain(nft_events, nft_rec, "event-natkeeper")
    run("nft", "delete", "table", "ip", "exprs")
    drain(nft_events, nft_rec, "event-delete")
    load_exprs()
    drain(nft_events, nft_rec, "event-exprs")

    # Dumps of everything, as natkeeper-nft reads them.
    q = sock(NETLINK_NETFILTER, [])
    getgen = nlmsg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, NLM_F_REQUEST | NLM_F_ACK, 0, b"\0" * 4)
    dump(q, getgen, nft_rec, "gen")
    dump(q, nft_request(NFT_MSG_GETTABLE, 0), nft_rec, "dump-tables")
    dump(q, nft_request(NFT_MSG_GETCHAIN, 0), nft_rec, "dump-chains")
    dump(q, nft_request(NFT_MSG_GETRULE, 0), nft_rec, "dump-rules")
    for kind, payload in dump(q, nft_request(NFT_MSG_GETSET, 0), nft_rec, "dump-sets"):
        if kind & 0xFF != NFT_MSG_NEWSET:
            continue
        family = payload[0]
        a = dict(attrs(payload[4:]))
        key = attr(NFTA_SET_ELEM_LIST_TABLE, a[NFTA_SET_TABLE]) + attr(NFTA_SET_ELEM_LIST_SET, a[NFTA_SET_NAME])
        dump(q, nft_request(NFT_MSG_GETSETELEM, family, key), nft_rec, "dump-elems")

    # The whole ruleset, one dump after another: the fixed kernel state the policy target plans against.
    os.makedirs(os.path.join(outdir, "..", "fixtures"), exist_ok=True)
    with open(os.path.join(outdir, "..", "fixtures", "ruleset.bin"), "wb") as f:
        f.write(nft_rec.dumps)

    r = sock(NETLINK_ROUTE, [])
    dump(r, nlmsg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, b"\0" * 16), rt_rec, "dump-links")
    dump(r, nlmsg(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 2, b"\0" * 8), rt_rec, "dump-addrs")
    dump(r, nlmsg(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 3, b"\0" * 12), rt_rec, "dump-routes")
    print(f"captured {nft_rec.n} nf_tables and {rt_rec.n} rtnetlink datagrams into {outdir}")


if __name__ == "__main__":
    main()
