"""Answers from an index, not a scan: the cost of one question on a big cluster against a small one, in-process.

- DNS: the simulated CoreDNS (tui.dns.zone.build(...).query) answering A questions for ClusterIP Services and
  PTR questions for pod addresses; microseconds per answer on the small cluster and on the big one. An indexed
  zone answers in about the same time whatever the cluster's size.
- NetworkPolicy: tui.netpol.evaluate.NetpolIndex.evaluate(...).to_dict() (the decision and its explanation, what
  `kubenet-tui reach --from --to` prints) on the big cluster with 10 policies, then with 1,000 (one per
  Deployment, padded with policies selecting no pod when there are fewer Deployments), the same connections
  both times, to pods the same policies select both times. A policy lookup indexed by selector costs about the
  same with many policies as with few; building the index is timed too, for information.

    python benchmarks/index_scaling.py --small SMALL.yaml --big BIG.yaml [--queries 2000] [--pairs 1000] [--budget 60]
                                       [--only dns|netpol] [--json]

The files are anything `kubenet-tui check -f` loads (make them with `kubenet-tui generate`). Each measurement
is independent: one that fails (an API that changed, say) is reported as {"error": "..."} and the others run.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import gc
import json
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FEW = 10  # policies in the "few" case: one for each of the first FEW Deployments
MANY = 1000  # in the "many" case: one for each of the first MANY Deployments (padded with policies selecting none)


def _err(e: BaseException) -> dict:
    tb = traceback.extract_tb(e.__traceback__)
    where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return {"error": f"{type(e).__name__}: {e}"[:300] + where}


def load_zone(path: str):
    from tui.dns.zone import build
    from tui.load import load

    t0 = time.perf_counter()
    topo = load([path]).topology
    t1 = time.perf_counter()
    zone = build(topo)
    t2 = time.perf_counter()
    gc.freeze()  # (as the CLI leaves what it built: no full collection walks the zone between answers)
    return zone, {"load_s": t1 - t0, "build_s": t2 - t1}


def dns_questions(zone, n: int, rng: random.Random) -> list[tuple[str, str]]:
    from tui.dns.records import reverse_name

    domain = zone.topology.cluster.domain
    svcs = [s for s in zone.cluster.services if s.cluster_ip is not None]
    pods = [p for p in zone.cluster.pods if p.ip is not None and not p.host_network]
    if not svcs or not pods:
        raise ValueError("the cluster has no ClusterIP Service or no pod with an address")
    out = []
    for i in range(n):
        if i % 2 == 0:
            s = rng.choice(svcs)
            out.append((f"{s.name}.{s.namespace}.svc.{domain}.", "A"))
        else:
            out.append((reverse_name(str(rng.choice(pods).ip)), "PTR"))
    return out


def time_dns(zone, questions, budget: float) -> dict:
    """Microseconds per answer, over the questions asked within ``budget`` seconds (all of them, when answers are
    fast; a slow zone answers fewer, alternately A and PTR, and the mean is over those), asked twice.

    The first time a Service (or a pod's Services, for PTR) is asked about, the zone makes what it indexes of it
    (its endpoint slices): ``first`` is that pass. The second pass asks the same questions again and is answered
    from the index: ``us_per_query`` and ``us_per_type`` are its figures."""
    clock = time.perf_counter
    t0 = clock()
    for q, t in questions[:20]:  # warm-up: whatever is built on the first question is not an answer's cost
        zone.query(q, t)
        if clock() - t0 > budget / 4:
            break
    passes = []
    asked = questions
    for _ in range(2):
        bad = 0
        per_type: dict[str, list[float]] = {}
        t0 = clock()
        n = 0
        for q, t in asked:
            t1 = clock()
            if zone.query(q, t).rcode != "NOERROR":
                bad += 1
            t2 = clock()
            per_type.setdefault(t, []).append(t2 - t1)
            n += 1
            if t2 - t0 > budget / 2 and n >= 2:
                break
        dt = clock() - t0
        passes.append({"questions": n, "us_per_query": dt / n * 1e6, "not_noerror": bad,
                       "us_per_type": {t: sum(v) / len(v) * 1e6 for t, v in sorted(per_type.items())}})
        asked = asked[:n]
    first, again = passes
    return {"asked": len(questions), **again, "first": first}


def deployments(cluster) -> list[tuple[str, dict, list]]:
    """(namespace, labels, pods) per group of pods with the same labels (pod-template-hash left out)."""
    groups: dict[tuple, list] = {}
    for p in cluster.pods:
        if p.host_network or p.namespace == "kube-system":
            continue
        labels = tuple(sorted((k, v) for k, v in p.labels.items() if k != "pod-template-hash"))
        if labels:
            groups.setdefault((p.namespace, labels), []).append(p)
    return [(ns, dict(labels), pods) for (ns, labels), pods in sorted(groups.items())]


def policies_yaml(groups, n_policies: int) -> str:
    """One Ingress policy per group (in order), admitting the next group's pods and one namespace on a port;
    beyond the groups, policies selecting no pod (a scan would still pay for them)."""
    docs = []
    for i in range(n_policies):
        if i < len(groups):
            ns, labels, pods = groups[i]
            _, peer_labels, _ = groups[(i + 1) % len(groups)]
            port = next((c.port for c in pods[0].ports), 80)
        else:
            ns, labels, port = groups[i % len(groups)][0], {"bench.kubenet-tui/none": str(i)}, 80
            peer_labels = {"bench.kubenet-tui/peer": str(i)}
        docs.append({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"bench-{i}", "namespace": ns},
            "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"podSelector": {"matchLabels": peer_labels}},
                                           {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "default"}}}],
                                  "ports": [{"protocol": "TCP", "port": port}]}]},
        })
    return "".join("---\n" + json.dumps(d) + "\n" for d in docs)


def with_policies(cluster, big_path: str, text: str, name: str):
    """The cluster with these policies added (its objects otherwise the same)."""
    from tui.load import load

    path = f"{name}.yaml"
    try:
        objs = load([path], texts={path: text}).topology.objects
        c = copy.copy(cluster)
        c.topology = dataclasses.replace(cluster.topology, objects=tuple(cluster.topology.objects) + tuple(objs))
        return c
    except Exception:  # the short way failed: load the big file again with the policies
        from tui.k8s.cluster import build_cluster

        return build_cluster(load([big_path, path], texts={path: text}).topology)


def time_netpol(cluster, big_path: str, n_pairs: int, rng: random.Random, budget: float) -> dict:
    from tui.netpol.evaluate import NetpolIndex

    groups = deployments(cluster)
    if len(groups) <= FEW:
        raise ValueError(f"only {len(groups)} Deployments: need more than {FEW}")
    tested = [p for _, _, pods in groups[:FEW] for p in pods]
    everyone = [p for p in cluster.pods if not p.host_network]
    pairs = []
    for _ in range(n_pairs):
        d = rng.choice(tested)
        pairs.append((rng.choice(everyone), d, next((c.port for c in d.ports), 80)))
    out: dict = {"pairs": n_pairs, "deployments": len(groups)}
    ixs = {}
    for label, n in (("few", FEW), ("many", MANY)):
        c = with_policies(cluster, big_path, policies_yaml(groups, n), f"bench-policies-{label}")
        t0 = time.perf_counter()
        ixs[label] = NetpolIndex(c)
        out[label] = {"policies": len(ixs[label].policies), "index_build_s": time.perf_counter() - t0}
        if len(ixs[label].policies) < n:
            raise ValueError(f"{label}: {len(ixs[label].policies)} policies parsed, {n} written")
    # interleaved, 100 connections at a time, so that both see the same machine load; each connection once per index
    verdicts: dict[str, list[bool]] = {"few": [], "many": []}
    spent = {"few": 0.0, "many": 0.0}
    for i in range(0, n_pairs, 100):
        for label, ix in ixs.items():
            t0 = time.perf_counter()
            for s, d, port in pairs[i:i + 100]:
                v = ix.evaluate(s, d, port)
                v.to_dict()
                verdicts[label].append(v.allowed)
            spent[label] += time.perf_counter() - t0
        if sum(spent.values()) > budget:
            break
    for label in ixs:
        out[label] |= {"evaluations": len(verdicts[label]), "us_per_eval": spent[label] / len(verdicts[label]) * 1e6,
                       "allowed": sum(verdicts[label])}
    out["same_verdicts"] = verdicts["few"] == verdicts["many"]
    out["ratio"] = out["many"]["us_per_eval"] / out["few"]["us_per_eval"]
    return out


def load_cluster(path: str):
    from tui.dns.sources import with_coredns
    from tui.k8s.cluster import build_cluster
    from tui.load import load

    t0 = time.perf_counter()
    topo = load([path]).topology
    t1 = time.perf_counter()
    cluster = build_cluster(with_coredns(topo))
    return cluster, {"load_s": t1 - t0, "build_s": time.perf_counter() - t1, "pods": len(cluster.pods),
                     "services": len(cluster.services)}


def measure(small: str, big: str, queries: int, pairs: int, seed: int = 1, budget: float = 60,
            parts: tuple[str, ...] = ("dns", "netpol")) -> dict:
    res: dict = {}
    if "dns" in parts:
        zones = {}
        for label, path in (("small", small), ("big", big)):
            try:
                zones[label], res[f"load_{label}"] = load_zone(path)
                res[f"load_{label}"]["pods"] = len(zones[label].cluster.pods)
                res[f"load_{label}"]["services"] = len(zones[label].cluster.services)
            except Exception as e:
                res[f"load_{label}"] = _err(e)
        try:
            if len(zones) < 2:
                raise RuntimeError("a cluster did not load: " + "; ".join(v["error"] for v in res.values() if "error" in v))
            dns = {label: time_dns(z, dns_questions(z, queries, random.Random(seed)), budget) for label, z in zones.items()}
            dns["ratio"] = dns["big"]["us_per_query"] / dns["small"]["us_per_query"]
            res["dns"] = dns
        except Exception as e:
            res["dns"] = _err(e)
        zones.clear()
    if "netpol" in parts:
        try:
            cluster, res["load_netpol"] = load_cluster(big)
            res["netpol"] = time_netpol(cluster, big, pairs, random.Random(seed), budget)
        except Exception as e:
            res["netpol"] = _err(e)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", required=True, help="a small cluster file")
    ap.add_argument("--big", required=True, help="a big cluster file")
    ap.add_argument("--queries", type=int, default=2000, help="DNS questions per cluster (default 2000)")
    ap.add_argument("--pairs", type=int, default=1000, help="connections evaluated per policy set (default 1000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=float, default=60,
                    help="seconds each timing loop may take; a slower one stops early and averages what it did (default 60)")
    ap.add_argument("--only", choices=["dns", "netpol"], help="measure only this (default: both)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    a = ap.parse_args()
    res = measure(a.small, a.big, a.queries, a.pairs, a.seed, a.budget, (a.only,) if a.only else ("dns", "netpol"))
    if a.json:
        print(json.dumps(res))
        return 0
    for label in ("small", "big", "netpol"):
        if f"load_{label}" not in res:
            continue
        r = res[f"load_{label}"]
        print(f"{label} cluster: " + (r["error"] if "error" in r else
                                      f"{r['pods']} pods, {r['services']} Services (load {r['load_s']:.1f} s, build {r['build_s']:.1f} s)"))
    d = res.get("dns", {"error": "not measured"})
    if "error" in d:
        print(f"DNS: {d['error']}")
    else:
        print(f"DNS: {d['small']['us_per_query']:.1f} us/answer small, {d['big']['us_per_query']:.1f} us/answer big: "
              f"{d['ratio']:.2f}x (target: about constant, at most 2x)")
        for t in d["big"]["us_per_type"]:
            print(f"  {t}: {d['small']['us_per_type'][t]:.1f} us small, {d['big']['us_per_type'][t]:.1f} us big")
    n = res.get("netpol", {"error": "not measured"})
    if "error" in n:
        print(f"NetworkPolicy: {n['error']}")
    else:
        print(f"NetworkPolicy: {n['few']['us_per_eval']:.1f} us/evaluation with {n['few']['policies']} policies, "
              f"{n['many']['us_per_eval']:.1f} with {n['many']['policies']}: {n['ratio']:.2f}x (target: at most 2x); "
              f"index built in {n['few']['index_build_s']:.2f} s and {n['many']['index_build_s']:.2f} s; "
              f"same verdicts: {n['same_verdicts']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
