"""Why a name in the cluster zone does not resolve, and what would make it resolve, in words.

Used for :attr:`Answer.note`. The classic mix-up gets its own sentence: a pod named ``web`` has no name
``web.<namespace>.svc.<zone>``; that name belongs to a Service named ``web`` (or, below a headless Service, to
a pod whose ``spec.hostname`` and ``spec.subdomain`` name it).
"""

from __future__ import annotations

import difflib

from .records import address_from_reverse, is_reverse, labels, reverse_name, trim_zone


def _close(word: str, choices) -> str:
    c = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f' (did you mean "{c[0]}"?)' if c else ""


def why(k, st, err: str | None) -> str:
    from .kubernetes import INVALID, NS_NOT_EXPOSED, parse_request

    if err is None:
        return f"{st.qname} exists, but has no {st.qtype} record (NODATA)"
    if st.qtype == "PTR" and address_from_reverse(st.name):
        return f"no Service cluster IP and no ready endpoint has the address {address_from_reverse(st.name)}"
    if is_reverse(st.name):
        return (f"{st.zone} holds PTR records of Service and endpoint addresses only "
                f"(a complete reverse name such as {reverse_name(k.src.dns_service.cluster_ips[0]) if k.src.dns_service else '10.0.96.10.in-addr.arpa.'})")
    r, e = parse_request(st.name, st.zone)
    base = labels(trim_zone(st.name, st.zone))
    zone = st.zone
    if e == INVALID:
        if base and base[-1] not in ("svc", "pod"):
            return (f'"{base[-1]}" is neither svc nor pod: names in {zone} are <service>.<namespace>.svc.{zone} '
                    f"or <a-b-c-d>.<namespace>.pod.{zone}")
        return (f"too many labels before {r.service}.{r.namespace}.{r.pod_or_svc}: CoreDNS reads at most one endpoint name or "
                f"_port._protocol there (a name with the search domain appended, as the resolver tries it, ends up here)")
    ns = r.namespace
    if err == NS_NOT_EXPOSED or ns not in k.src.namespaces or (k.cfg.namespaces and ns not in k.cfg.namespaces):
        if ns not in k.src.namespaces:
            return f'namespace "{ns}" does not exist{_close(ns, k.src.namespaces)}'
        return f'namespace "{ns}" is not served: the Corefile\'s kubernetes plugin has "namespaces {" ".join(k.cfg.namespaces)}"'
    if r.pod_or_svc == "pod":
        if k.cfg.pods == "disabled":
            return "pod records are off (pods disabled): set pods insecure or pods verified in the Corefile"
        return (f'"{r.service}" is not a pod address in dashed form (10-244-1-5)' if k.cfg.pods == "insecure"
                else f"no pod of namespace {ns} has the address {r.service.replace('-', '.')} (pods verified)")
    svc = k.src.services.get((ns, r.service))
    if svc is None:
        msg = f'no Service "{r.service}" in namespace "{ns}"'
        if (ns, r.service) in k.src.pod_names:
            return (msg + f': there is a pod named {r.service}, but a pod gets no <pod>.<namespace>.svc name. A Service named '
                    f"{r.service} selecting it would make this name; or give the pod spec.hostname and spec.subdomain and a "
                    f"headless Service named as the subdomain (<hostname>.<subdomain>.{ns}.svc.{zone})")
        return msg + _close(r.service, [n for (s_ns, n) in k.src.services if s_ns == ns])
    if svc.type == "ExternalName":
        return f"{svc.name} is an ExternalName Service: it is only a CNAME to {svc.external_name}, with no endpoint or port names"
    slices = k.src.slices_of(svc.name, svc.namespace)
    ready = sum(len(s.addresses) for s in slices)
    if k.cfg.ignore_empty_service and not svc.headless and ready == 0:
        return f"Service {svc.name} has no ready endpoint, and the Corefile says ignore empty_service"
    if r.endpoint:
        names = sorted({k.endpoint_hostname(a) for s in slices for a in s.addresses})
        return (f"Service {svc.name} has no ready endpoint named {r.endpoint}" +
                (f" (its endpoints: {', '.join(names)})" if names else " (it has no ready endpoint)"))
    if r.port or r.protocol:
        ports = sorted({f"_{p.name}._{p.protocol.lower()}" for p in (s for sl in slices for s in sl.ports) if p.name} |
                       {f"_{p.name}._{p.protocol.lower()}" for p in svc.ports if p.name})
        return (f"Service {svc.name} has no port named {r.port} with protocol {r.protocol}" +
                (f" (named ports: {', '.join(ports)})" if ports else " (it has no named port: unnamed ports get no SRV name)"))
    if svc.headless:
        return (f"headless Service {svc.name} has no ready endpoint: its name has only the addresses of ready pods "
                f"(a pod that is not Ready is left out unless the Service sets publishNotReadyAddresses)")
    return f"Service {svc.name} has no port: CoreDNS gives it no record"
