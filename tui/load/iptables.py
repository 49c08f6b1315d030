"""Parse iptables command lines (``-t nat -A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE``).

The subset kept is what Docker and kube-proxy write: addresses, interfaces,
protocols and ports, conntrack state, comments, ``statistic``, ``mark``,
``addrtype`` (``--src-type``, ``--dst-type``), ``recent`` (kube-proxy's
session affinity: ``--name``, ``--set``, ``--rcheck``, ``--update``,
``--remove``, ``--seconds``, ``--reap``, ``--mask``, ``--rsource``,
``--rdest``), and the targets ACCEPT, DROP, REJECT, RETURN, LOG, MARK,
MASQUERADE, SNAT, DNAT and jumps to user chains.
"""

from __future__ import annotations

import ipaddress
import re
import shlex

from ..model.source import NOWHERE, Mark
from ..model.topology import Policy, Rule

TABLES = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}
BUILTIN_TARGETS = {"ACCEPT", "DROP", "REJECT", "RETURN", "LOG", "MARK", "MASQUERADE", "SNAT", "DNAT", "KUBE-MARK-MASQ"}
PROTOCOLS = {"tcp", "udp", "icmp", "sctp", "all"}
CT_STATES = {"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT"}
CT_PRINT_ORDER = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")  # as iptables -S prints them
RECENT_COMMANDS = {"--set": "set", "--rcheck": "rcheck", "--update": "update", "--remove": "remove"}


class RuleError(ValueError):
    """A rule iptables would refuse; the message says why."""


def _net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise RuleError(f'host/network "{text}" not found') from None


def _ports(text: str) -> tuple[int, int]:
    lo, _, hi = text.partition(":")
    try:
        a, b = int(lo), int(hi or lo)
    except ValueError:
        raise RuleError(f'invalid port/service "{text}" specified') from None
    if not (0 <= a <= 65535 and 0 <= b <= 65535) or a > b:
        raise RuleError(f'invalid port/service "{text}" specified')
    return a, b


def _markmask(text: str) -> tuple[int, int]:
    v, _, m = text.partition("/")
    try:
        return int(v, 0), int(m, 0) if m else 0xFFFFFFFF
    except ValueError:
        raise RuleError(f'bad mark value "{text}"') from None


def _to(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address | None, int | None]:
    addr, port = text, None
    if text.startswith("["):
        addr, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else None
    elif text.count(":") == 1:
        addr, p = text.split(":")
        port = int(p) if p else None
    try:
        return (ipaddress.ip_address(addr) if addr else None), port
    except ValueError:
        raise RuleError(f'bad IP address "{addr}"') from None


_TOKEN = re.compile(r'"([^"]*)"(?=\s|$)|([^\s"]+)(?=\s|$)|(\S)')


def _split(text: str) -> list[str]:
    """The shell's words, as ``shlex.split`` gives them; plain words and whole double-quoted ones (what
    iptables-save and kube-proxy write) without shlex's cost, anything else through shlex."""
    if "\\" in text or "'" in text:
        return shlex.split(text)
    out = []
    for m in _TOKEN.finditer(text):
        if m.group(3) is not None:  # a quote inside a word, or one left open: the shell's rules
            return shlex.split(text)
        out.append(m.group(1) if m.group(1) is not None else m.group(2))
    return out


def parse_rule(text: str, mark: Mark = NOWHERE) -> Rule | Policy | None:
    """One ``iptables`` command line (without the word ``iptables``).

    Returns a :class:`Rule` for ``-A``/``-I``, a :class:`Policy` for ``-P``,
    ``None`` for ``-N`` (chains exist once used). Raises :class:`RuleError`.
    """
    try:
        args = _split(text)
    except ValueError as e:
        raise RuleError(str(e)) from None
    if args and args[0] in ("iptables", "ip6tables"):
        args = args[1:]
    table, chain, op, target = "filter", None, None, None
    f: dict = {}
    neg = False
    i = 0

    def val() -> str:
        nonlocal i
        i += 1
        if i >= len(args):
            raise RuleError(f"option {args[i - 1]} requires an argument")
        return args[i]

    def negated() -> bool:
        nonlocal neg
        n, neg = neg, False
        return n

    negatable = {"-s", "--source", "-d", "--destination", "-i", "--in-interface", "-o", "--out-interface", "-p", "--protocol", "--mark",
                 "--dst-type"}
    while i < len(args):
        a = args[i]
        if neg and a not in negatable:
            raise RuleError(f'"! {a}": negation is simulated only for -s, -d, -i, -o, -p, --mark and --dst-type')
        if a == "!":
            neg = True
        elif a in ("-t", "--table"):
            table = val()
            if table not in TABLES:
                raise RuleError(f"table {table} is not simulated (only filter and nat)")
        elif a in ("-A", "--append", "-I", "--insert", "-P", "--policy", "-N", "--new-chain"):
            op = a.lstrip("-")[0].upper()
            chain = val()
            if op == "P":
                target = val()
            elif op == "I" and i + 1 < len(args) and args[i + 1].isdigit():
                i += 1  # a rule number: only 1 (the head) is simulated
                if args[i] != "1":
                    raise RuleError("-I CHAIN N: only position 1 (the head of the chain) is simulated")
        elif a in ("-s", "--source", "-d", "--destination"):
            key = "src" if a in ("-s", "--source") else "dst"
            f[key + "_neg"] = negated()
            f[key] = _net(val())
        elif a in ("-i", "--in-interface", "-o", "--out-interface"):
            key = "in" if a in ("-i", "--in-interface") else "out"
            f[key + "_neg"] = negated()
            f[key + "_iface"] = val()
        elif a in ("-p", "--protocol"):
            f["proto_neg"] = negated()
            p = val().lower()
            if p not in PROTOCOLS:
                raise RuleError(f'unknown protocol "{p}" specified')
            f["proto"] = None if p == "all" else p
        elif a in ("--dport", "--destination-port", "--sport", "--source-port"):
            if f.get("proto") not in ("tcp", "udp", "sctp"):
                raise RuleError(f"{a} needs -p tcp, udp or sctp first")
            f["dport" if "d" in a[2:4] else "sport"] = _ports(val())
        elif a in ("-m", "--match"):
            val()
        elif a in ("--ctstate", "--state"):
            states = frozenset(s.strip().upper() for s in val().split(","))
            bad = states - CT_STATES
            if bad:
                raise RuleError(f"bad ctstate {','.join(sorted(bad))}")
            f["ctstate"] = states
        elif a == "--comment":
            f["comment"] = val()
        elif a == "--mode":
            if val() != "random":
                raise RuleError("only statistic --mode random is simulated")
        elif a == "--probability":
            try:
                f["probability"] = float(val())
                if not 0 <= f["probability"] <= 1:
                    raise ValueError
            except ValueError:
                raise RuleError("--probability takes a number between 0 and 1") from None
        elif a == "--mark":
            f["mark_neg"] = negated()
            f["mark_match"] = _markmask(val())
        elif a in ("--set-xmark", "--set-mark"):
            f["set_mark"] = _markmask(val())
        elif a == "--or-mark":  # as iptables-save shows it: --set-xmark V/V
            v = _markmask(val())[0]
            f["set_mark"] = (v, v)
        elif a == "--xor-mark":  # --set-xmark V/0x0
            f["set_mark"] = (_markmask(val())[0], 0)
        elif a in ("--dst-type", "--src-type"):
            key = "dst_type" if a == "--dst-type" else "src_type"
            if a == "--dst-type":
                f["dst_type_neg"] = negated()
            f[key] = val().upper()
            if f[key] != "LOCAL":
                raise RuleError(f"only {a} LOCAL is simulated")
        elif a in RECENT_COMMANDS:
            if "recent_cmd" in f:
                raise RuleError("recent: only one of `--set', `--rcheck', `--update' or `--remove' per match")
            f["recent_cmd"] = RECENT_COMMANDS[a]
        elif a == "--name":
            f["recent_name"] = val()
        elif a == "--seconds":
            text = val()
            if not text.isdigit() or int(text) < 1:
                raise RuleError(f'recent: --seconds takes a whole number of seconds above 0, not "{text}"')
            f["recent_seconds"] = int(text)
        elif a == "--reap":
            f["recent_reap"] = True
        elif a == "--mask":
            text = val()
            try:
                f["recent_mask"] = ipaddress.ip_address(text)
            except ValueError:
                raise RuleError(f'recent: bad --mask "{text}"') from None
        elif a in ("--rsource", "--rdest"):
            f["recent_dest"] = a == "--rdest"
        elif a in ("--hitcount", "--rttl"):
            raise RuleError(f"recent {a} is not simulated")
        elif a in ("-j", "--jump", "-g", "--goto"):
            target = val()
        elif a in ("--to-destination", "--to-source", "--to"):
            f["to_addr"], f["to_port"] = _to(val())
        elif a == "--to-ports":
            f["to_port"] = _ports(val().replace("-", ":"))[0]
        elif a in ("--random", "--random-fully", "--reject-with", "--log-prefix"):
            if a in ("--reject-with", "--log-prefix"):
                val()
        else:
            raise RuleError(f'unknown option "{a}"')
        i += 1
    if neg:
        raise RuleError('a trailing "!" negates nothing')
    _check_recent(f)
    if op is None or chain is None:
        raise RuleError("a rule needs -A CHAIN (or -I, -P, -N)")
    f["insert"] = op == "I"
    if op == "N":
        if chain in TABLES[table]:
            raise RuleError(f"chain {chain} already exists (a built-in chain of table {table})")
        return Policy(table, chain, "-", mark)
    if op == "P":
        if chain not in TABLES[table]:
            raise RuleError(f"-P works only on a built-in chain of table {table} ({', '.join(TABLES[table])})")
        if target not in ("ACCEPT", "DROP"):
            raise RuleError("a policy is ACCEPT or DROP")
        return Policy(table, chain, target, mark)
    if target is None:
        raise RuleError("a rule needs a target (-j TARGET)")
    if target in ("DNAT", "SNAT", "MASQUERADE") and table != "nat":
        raise RuleError(f"the {target} target is only valid in the nat table")
    if target == "DNAT" and chain in ("POSTROUTING", "INPUT"):
        raise RuleError("DNAT is only valid in PREROUTING, OUTPUT and user chains")
    if target in ("SNAT", "MASQUERADE") and chain in ("PREROUTING", "OUTPUT"):
        raise RuleError(f"{target} is only valid in POSTROUTING, INPUT and user chains")
    if target in ("DNAT", "SNAT") and f.get("to_addr") is None:
        raise RuleError(f"{target} needs --to-{'destination' if target == 'DNAT' else 'source'}")
    if target in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT") and f.get("to_port") is not None and \
            (f.get("proto") not in ("tcp", "udp", "sctp") or f.get("proto_neg")):
        raise RuleError("Need TCP, UDP, SCTP or DCCP with port specification")  # (iptables' own words: a port needs -p)
    rule = Rule(table=table, chain=chain, target=target, mark=mark, **f)
    return Rule(**{**rule.__dict__, "text": format_rule(rule)})


def _check_recent(f: dict) -> None:
    """The checks libxt_recent makes of one ``-m recent`` match."""
    options = ("recent_name", "recent_seconds", "recent_reap", "recent_mask", "recent_dest")
    if "recent_cmd" not in f:
        if any(k in f for k in options):
            raise RuleError("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
        return
    if f.get("recent_seconds") is not None and f["recent_cmd"] not in ("rcheck", "update"):
        raise RuleError("recent: --seconds works only with --rcheck or --update")
    if f.get("recent_reap") and f.get("recent_seconds") is None:
        raise RuleError('recent: you must specify "--seconds" with "--reap"')


def _recent(r: Rule) -> str:
    """``-m recent`` as libxt_recent saves it: command, --seconds, --reap, --name, --mask, side."""
    out = ["-m recent", f"--{r.recent_cmd}"]
    if r.recent_seconds is not None:
        out.append(f"--seconds {r.recent_seconds}")
    if r.recent_reap:
        out.append("--reap")
    out.append(f"--name {r.recent_name or 'DEFAULT'}")
    v6 = any(n is not None and n.version == 6 for n in (r.src, r.dst))
    out.append(f"--mask {r.recent_mask or ('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' if v6 else '255.255.255.255')}")
    out.append("--rdest" if r.recent_dest else "--rsource")
    return " ".join(out)


def format_rule(r: Rule) -> str:
    """The rule as ``iptables -t TABLE -S`` prints it."""
    out = [f"-A {r.chain}"]

    def opt(flag: str, value, negated: bool = False) -> None:
        if value is not None:
            out.append(("! " if negated else "") + f"{flag} {value}")

    opt("-s", r.src, r.src_neg)
    opt("-d", r.dst, r.dst_neg)
    opt("-i", r.in_iface, r.in_neg)
    opt("-o", r.out_iface, r.out_neg)
    opt("-p", r.proto, r.proto_neg)
    if r.comment:
        out.append(f'-m comment --comment "{r.comment}"')
    if r.src_type or r.dst_type:
        out.append("-m addrtype" + (f" --src-type {r.src_type}" if r.src_type else "") + (f" {'! ' if r.dst_type_neg else ''}--dst-type {r.dst_type}" if r.dst_type else ""))
    if r.recent_cmd:
        out.append(_recent(r))
    if r.proto and (r.sport or r.dport):
        out.append(f"-m {r.proto}")
        if r.sport:
            out.append("--sport " + (str(r.sport[0]) if r.sport[0] == r.sport[1] else f"{r.sport[0]}:{r.sport[1]}"))
        if r.dport:
            out.append("--dport " + (str(r.dport[0]) if r.dport[0] == r.dport[1] else f"{r.dport[0]}:{r.dport[1]}"))
    if r.ctstate:
        out.append("-m conntrack --ctstate " + ",".join(s for s in CT_PRINT_ORDER if s in r.ctstate))
    if r.mark_match:
        out.append(f"-m mark {'! ' if r.mark_neg else ''}--mark {r.mark_match[0]:#x}/{r.mark_match[1]:#x}")
    if r.probability is not None:
        out.append(f"-m statistic --mode random --probability {r.probability:.11f}")
    out.append(f"-j {r.target}")
    if r.set_mark:
        out.append(f"--set-xmark {r.set_mark[0]:#x}/{r.set_mark[1]:#x}")
    if r.target == "MASQUERADE" and r.to_port is not None:
        out.append(f"--to-ports {r.to_port}")
    elif r.to_addr is not None or r.to_port is not None:
        where = str(r.to_addr) if r.to_addr is not None else ""
        if r.to_port is not None:
            where += f":{r.to_port}"
        opt("--to-destination" if r.target == "DNAT" else "--to-source" if r.target == "SNAT" else "--to-ports", where)
    return " ".join(out)
