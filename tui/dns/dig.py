"""Answers printed as dig prints them, and as the JSON ``kubenet-tui resolve -o json`` writes."""

from __future__ import annotations

from .records import Answer, Record
from .resolver import Resolution


def rr_line(r: Record) -> str:
    """One record in dig's columns: the name padded with tabs to column 24, then TTL, class, type, data."""
    pad = "\t" if len(r.name) >= 24 else "\t" * -(-(24 - len(r.name)) // 8)
    return f"{r.name}{pad}{r.ttl}\tIN\t{r.type}\t{r.data}"


def flags(a: Answer) -> str:
    return " ".join(["qr"] + (["aa"] if a.aa else []) + ["rd"] + (["ra"] if a.ra else []))


def answer_text(qname: str, qtype: str, a: Answer) -> list[str]:
    """The header, question and non-empty sections of one reply, as dig shows them."""
    lines = [f";; ->>HEADER<<- opcode: QUERY, status: {a.rcode}",
             f";; flags: {flags(a)}; QUERY: 1, ANSWER: {len(a.answer)}, AUTHORITY: {len(a.authority)}, ADDITIONAL: {len(a.additional)}",
             "", ";; QUESTION SECTION:", f";{qname}\t\tIN\t{qtype}"]
    for title, rrs in (("ANSWER", a.answer), ("AUTHORITY", a.authority), ("ADDITIONAL", a.additional)):
        if rrs:
            lines += ["", f";; {title} SECTION:"] + [rr_line(r) for r in rrs]
    if a.note and (a.rcode != "NOERROR" or not a.answer):
        lines += ["", f";; why: {a.note}"]
    return lines


def resolution_text(res: Resolution) -> str:
    lines = [f"; <<>> kubenet-tui resolve <<>> {res.name} {res.qtype}" + (f" from {res.pod}" if res.pod else "")]
    if res.conf is not None:
        c = res.conf
        applied = f", applied as {c.applied}" if c.applied != c.policy else ""
        lines.append(f";; pod {res.pod}, dnsPolicy {c.policy}{applied}; its /etc/resolv.conf:")
        lines += [f";;   {line}" for line in c.text().splitlines()]
        lines.append(f";; {res.order}")
        for i, t in enumerate(res.tries, 1):
            a = t.answer
            what = "NODATA" if a.nodata else a.rcode
            count = f", {len(a.answer)} record{'s' if len(a.answer) != 1 else ''}" if a.answer else ""
            mark = "   <- kept" if res.kept == i - 1 else ""
            lines.append(f";; try {i}: {t.qname} {res.qtype} -> {what}{count}{mark}")
            lines += [f";;     {r.text()}" for r in a.answer]
            if not a.answer and a.note:
                lines.append(f";;     ({a.note})")
        if res.kept is None:
            lines.append(";; nothing resolved: the last answer stands")
        lines.append("")
    lines += answer_text(res.qname, res.qtype, res.final)
    return "\n".join(lines)


def resolution_dict(res: Resolution) -> dict:
    a = res.final
    out = {"name": res.name, "qname": res.qname, "qtype": res.qtype, **a.to_dict(),
           "flags": {"aa": a.aa, "ra": a.ra}, "note": a.note,
           "tries": [{"qname": t.qname, "rcode": t.answer.rcode, "answer": [r.text() for r in t.answer.answer],
                      "kept": res.kept == i} for i, t in enumerate(res.tries)]}
    if res.pod is not None:
        out["from"] = res.pod
        out["resolv_conf"] = res.conf.to_dict() if res.conf else None
        out["order"] = res.order
    return out
