"""Load files and directories into one validated :class:`Topology`.

``load(paths)`` reads every document of every file (YAML, several documents
per file, or JSON, ``kind: List`` included), validates each, checks the whole
(names, references, addresses, routes as the kernel would accept them) and
raises :class:`LoadError` with every problem found, or returns the
description and any warnings.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, replace
from pathlib import Path

from ..model.source import Mark
from ..model.topology import ClusterConfig, Container, DockerBridge, Host, KubeObject, Topology
from .errors import Problem, Problems, did_you_mean
from .fields import type_name
from .netcheck import check_network
from .topology import TopologyDoc, is_unset, read_topology
from .yamlsrc import SourceError, YList, YMap, _check_binary, read_documents, read_file

EXTENSIONS = (".yaml", ".yml", ".json")


@dataclass
class Loaded:
    topology: Topology
    warnings: list[Problem]
    network: object = None  # the network the checks compiled (tui.sim.network.Network), ready for a first question


def expand(paths: list[str]) -> list[str]:
    """Files named, and for a directory every YAML or JSON file inside in name order."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            out += sorted(str(Path(p) / n) for n in os.listdir(p) if n.endswith(EXTENSIONS) and os.path.isfile(Path(p) / n))
        else:
            out.append(p)
    return out


def load(paths: list[str], texts: dict[str, str] | None = None) -> Loaded:
    """Load ``paths`` (``texts`` may supply a file's contents instead of the disk)."""
    from ..sim.gcpause import paused_gc

    with paused_gc():
        return _load(paths, texts)


BIG_INPUT_BYTES = 32 << 20
"""From this size on (all the files together) the C heap grows in big steps while the input is built."""


def _input_bytes(files: list[str], texts: dict[str, str] | None) -> int:
    total = 0
    for file in files:
        if texts is not None and file in texts:
            total += len(texts[file])
            continue
        try:
            total += os.path.getsize(file)
        except OSError:
            pass  # (said where the file is read)
    return total


def _load(paths: list[str], texts: dict[str, str] | None) -> Loaded:
    problems = Problems()
    docs: list[TopologyDoc] = []
    objects: list[tuple[KubeObject, str]] = []  # with the path of the document, for a List's items
    files = expand(paths)
    if _input_bytes(files, texts) >= BIG_INPUT_BYTES:
        from ..sim.gcpause import grow_heap_in_big_steps

        grow_heap_in_big_steps()
    sources: dict[str, bytes | str] = {}
    for file in files:
        if (texts is None or file not in texts) and _big_json_file(file):  # a big `kubectl get -o json` List: a chunk at a time
            from .bigjson import read_list_file

            try:
                if read_list_file(file, problems, objects, docs):
                    sources[file] = b""  # (its Corefile, if any, is found again by its marks)
                    continue
            except OSError:
                pass  # (said below, where the file is read)
        if texts is not None and file in texts:
            data: bytes | str = texts[file]
        else:
            try:
                data = read_file(file)
            except OSError as e:
                problems.error(Mark(file, 1, 1), "file", f"cannot read: {e.strerror or e}")
                continue
        sources[file] = data
        from .bigjson import MAX_JSON_BYTES, is_big_json, read_list

        if is_big_json(data):  # a big `kubectl get -o json` List: item by item, located only where needed
            try:
                text = _check_binary(data, file, MAX_JSON_BYTES) if isinstance(data, bytes) else data
            except SourceError as e:
                problems.add(e.problems)
                continue
            sources[file] = b""  # (its Corefile, if any, is found again by its marks)
            del data
            if read_list(text, file, problems, objects, docs, keep_text=texts is not None and file in texts):
                continue
            data = text
        try:
            documents = read_documents(data, file)
        except SourceError as e:
            problems.add(e.problems)
            continue
        for value, mark in documents:
            _document(value, mark, "", problems, docs, objects)
    compiled: list = []
    topo = _assemble(docs, objects, files, problems, compiled)
    _check_corefile(topo, sources, problems)
    problems.raise_if_errors()
    return Loaded(topo, problems.warnings + problems.notes(), compiled[0] if compiled else None)


def _big_json_file(file: str) -> bool:
    from .bigjson import FAST_BYTES

    try:
        if os.path.getsize(file) < FAST_BYTES:
            return False
        with open(file, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    return head.lstrip(b" \t\r\n").removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"{")


def _check_corefile(topo: Topology, sources: dict, problems: Problems) -> None:
    """CoreDNS's own configuration (ConfigMap kube-system/coredns, key Corefile): what CoreDNS would refuse
    to start with is an error located at the Corefile's line in the file."""
    cm = next((o for o in topo.objects if o.kind == "ConfigMap" and o.namespace == "kube-system" and o.name == "coredns"), None)
    text = ((cm.body.get("data") or {}).get("Corefile") if cm is not None else None)
    if not isinstance(text, str):
        return
    from ..dns.corefile import CorefileError, parse

    try:
        parse(text)
    except CorefileError as e:
        start = cm.mark_of("data.Corefile")
        mark = start
        data = sources.get(start.file)
        if data is not None and start is not cm.mark:
            lines = (data.decode("utf-8", "replace") if isinstance(data, bytes) else data).splitlines()
            at = lines[start.line - 1][start.col - 1:] if 0 < start.line <= len(lines) else ""
            i = start.line - 1 + e.line  # a block scalar (Corefile: |) starts on the line after its indicator
            if at[:1] in ("|", ">") and 0 <= i < len(lines) and lines[i].strip():
                mark = Mark(start.file, i + 1, len(lines[i]) - len(lines[i].lstrip()) + 1)
            # else a quoted or JSON string: its lines are escapes in one line, so the string's own position
        problems.error(mark, "data.Corefile", f"CoreDNS would not start: {e}")


def _document(value, mark: Mark, path: str, problems: Problems, docs: list, objects: list) -> None:
    if not isinstance(value, YMap):
        problems.error(mark, path or "document", f"expected a mapping with apiVersion and kind, got {type_name(value)}")
        return
    at = (lambda k: f"{path}.{k}" if path else k)
    api, kind = value.get("apiVersion"), value.get("kind")
    ok = True
    for key, v in (("apiVersion", api), ("kind", kind)):
        if v is None:
            problems.error(value.mark, at(key), "required field is missing")
            ok = False
        elif not isinstance(v, str):
            problems.error(value.vmark(key), at(key), f"expected a string, got {type_name(v)}")
            ok = False
    if not ok:
        return
    if kind == "List":
        items = value.get("items")
        if not isinstance(items, YList):
            problems.error(value.vmark("items") if "items" in value else value.mark, at("items"), "a List needs a list of items")
            return
        base = at("items")
        for i, item in enumerate(items):
            if problems.full and not isinstance(item, YMap):  # (counted only: a list of millions of wrong items)
                problems.error(items.imark(i), base, "")
                continue
            _document(item, items.imark(i), f"{base}[{i}]", problems, docs, objects)
        return
    if kind == "Topology" or api == "kubenet/v1":
        if api != "kubenet/v1":
            problems.error(value.vmark("apiVersion"), at("apiVersion"), f'a Topology is apiVersion kubenet/v1, not "{api}"')
            return
        if kind != "Topology":
            problems.error(value.vmark("kind"), at("kind"), f'unknown kind "{kind}" for apiVersion kubenet/v1'
                           f'{did_you_mean(kind, ["Topology"]) or ": its one kind is Topology"}')
            return
        docs.append(read_topology(value, path, problems))
        return
    from .kube import read_object  # only files with Kubernetes objects pay for it

    obj = read_object(value, path, problems, api, kind)
    if obj is not None:
        objects.append((obj, path))


def _assemble(docs: list[TopologyDoc], objects: list[tuple[KubeObject, str]], files: list[str], problems: Problems,
              compiled: list | None = None) -> Topology:
    name = next((d.name for d in docs if d.name), None) or (Path(files[0]).stem if files else "empty")
    description = next((d.description for d in docs if d.description), "")
    networks = [n for d in docs for n in d.networks]
    hosts = [h for d in docs for h in d.hosts]
    paths: dict = {}
    fields: dict = {}
    for d in docs:
        paths.update(d.paths)
        fields.update(d.fields)
    cluster = next((d.cluster for d in docs if d.cluster is not None), ClusterConfig())
    for d in docs[1:]:
        if d.cluster is not None and d.cluster is not cluster:
            problems.error(d.cluster.mark, "cluster", f"a second cluster section (the first is at {cluster.mark})")

    seen_net: dict[str, Mark] = {}
    for n in networks:
        if n.name in seen_net:
            problems.error(n.mark, f"{paths.get(n.mark, 'networks')}.name", f'duplicate network "{n.name}" (first at {seen_net[n.name]})')
        seen_net.setdefault(n.name, n.mark)

    # Top-level containers join their host; containers imply Docker's default bridge.
    by_host = {h.name: h for h in hosts}
    extra: dict[str, list[Container]] = {}
    for d in docs:
        for c, p in d.containers:
            if c.host not in by_host:
                problems.error(c.mark, f"{p}.host", f'no host "{c.host}"{did_you_mean(c.host, by_host)}')
            else:
                extra.setdefault(c.host, []).append(replace(c, mark=c.mark))
    hosts = [_docker_host(h, extra.get(h.name, []), paths, problems) for h in hosts]

    names: dict[str, tuple[Mark, str]] = {}
    for h in hosts:
        items = [(h.name, h.mark, "host")] + [(n.name, n.mark, "namespace") for n in h.namespaces] + [(c.name, c.mark, "container") for c in h.containers]
        for nm, mark, what in items:
            if nm in names:
                first, fwhat = names[nm]
                problems.error(mark, f"{paths.get(mark, what)}.name", f'duplicate name "{nm}": already a {fwhat} (line {first.line} of {first.file})')
            else:
                names[nm] = (mark, what)
    hosts = [_check_host(h, seen_net, paths, problems) for h in hosts]
    seen_obj: dict[str, Mark] = {}
    for o, opath in objects:
        if o.key in seen_obj and o.name:
            problems.error(o.mark, f"{opath}.metadata.name" if opath else "metadata.name", f'duplicate {o.kind} "{o.name}" (first at {seen_obj[o.key]})')
        seen_obj.setdefault(o.key, o.mark)
    if not cluster.present and any(o.kind in ("Node", "Pod", "Service") for o, _ in objects):
        from ..k8s.infer import infer  # a bare dump: the cluster's ranges read off its objects

        cluster = infer(cluster, [o for o, _ in objects])
    topo = Topology(name, tuple(networks), tuple(hosts), cluster, tuple(o for o, _ in objects), tuple(files), description)
    if any(o.kind in ("Service", "Node", "Pod") for o, _ in objects):
        from ..k8s.conflicts import conflicts

        for o, path, message in conflicts(topo):
            where = next((p for obj, p in objects if obj is o), "")
            problems.error(o.mark_of(path), f"{where}.{path}" if where else path, message)
    # The kernel's own checks (routes, addresses) run even when other fields were wrong, so that
    # a file's errors come all at once; what failed to parse is simply absent from this model.
    try:
        net = check_network(topo, paths, fields, problems)
        if compiled is not None:
            compiled.append(net)
    except Exception:  # noqa: BLE001 - a model too broken to compile: its first errors are already reported
        if not problems.errors:
            raise
    return topo


def _docker_host(h: Host, more: list[Container], paths: dict, problems: Problems) -> Host:
    containers = list(h.containers) + [replace(c, host=h.name) for c in more]
    if not containers:
        return h
    docker = h.docker or DockerBridge(mark=h.mark)
    used = {docker.gateway.ip}
    out: list[Container] = []
    for c in containers:
        if is_unset(c.address):
            continue
        ip = c.address.ip
        at = f"{paths.get(c.mark, 'containers')}.address"
        if ip not in docker.cidr:
            problems.error(c.mark, at, f"{ip} is not in the Docker bridge network {docker.cidr}")
        elif ip in (docker.cidr.network_address, docker.cidr.broadcast_address):
            problems.error(c.mark, at, f"{ip} is the network or broadcast address of {docker.cidr}, not a host address")
        elif c.address.network.prefixlen not in (32, docker.cidr.prefixlen):
            problems.error(c.mark, at, f"{c.address}: a container on {docker.bridge} has the bridge's prefix /{docker.cidr.prefixlen} (write {ip} or {ip}/{docker.cidr.prefixlen})")
        elif ip in used:
            problems.error(c.mark, f"{paths.get(c.mark, 'containers')}.address", f"duplicate address {ip} on {docker.bridge}")
        used.add(ip)
    pool = (ip for ip in docker.cidr.hosts() if ip not in used)
    for c in containers:
        if is_unset(c.address):
            ip = next(pool, None)
            if ip is None:
                problems.error(c.mark, paths.get(c.mark, "containers"), f"no free address left in {docker.cidr}")
                continue
            used.add(ip)
        else:
            ip = c.address.ip
        out.append(replace(c, address=ipaddress.IPv4Interface(f"{ip}/{docker.cidr.prefixlen}")))
    return replace(h, docker=docker, containers=tuple(out))


def _check_host(h: Host, networks: dict, paths: dict, problems: Problems) -> Host:
    hp = paths.get(h.mark, "hosts")
    devs: dict[str, Mark] = {"lo": h.mark}
    ifaces = []
    for i, itf in enumerate(h.interfaces):
        if itf.name in devs:
            problems.error(itf.mark, f"{hp}.interfaces[{i}].name", f'duplicate interface "{itf.name}" on {h.name}')
        devs[itf.name] = itf.mark
        if itf.network is not None and itf.network not in networks:
            problems.error(itf.mark, f"{hp}.interfaces[{i}].network", f'no network "{itf.network}"{did_you_mean(itf.network, networks)}')
            itf = replace(itf, network=None)
        ifaces.append(itf)
    bridges = {b.name for b in h.bridges} | ({h.docker.bridge} if h.docker else set())
    for b in list(h.bridges) + ([h.docker] if h.docker else []):
        bname = b.name if hasattr(b, "name") else b.bridge
        if bname in devs and devs[bname] is not b.mark:
            problems.error(b.mark, f"{hp}.bridges", f'device "{bname}" already exists on {h.name}')
        devs[bname] = b.mark
    namespaces = []
    for k, n in enumerate(h.namespaces):
        nifs = []
        seen = {"lo"}
        for j, itf in enumerate(n.interfaces):
            at = f"{hp}.namespaces[{k}].interfaces[{j}]"
            if itf.name in seen:
                problems.error(itf.mark, f"{at}.name", f'duplicate interface "{itf.name}" in {n.name}')
            seen.add(itf.name)
            if itf.bridge is None:
                problems.error(itf.mark, f"{at}.bridge", f"required: the bridge of {h.name} this veth is plugged into")
                continue
            if itf.bridge not in bridges:
                problems.error(itf.mark, f"{at}.bridge", f'no bridge "{itf.bridge}" on {h.name}{did_you_mean(itf.bridge, bridges)}')
                continue
            if itf.peer is not None:
                if itf.peer in devs:
                    problems.error(itf.mark, f"{at}.peer", f'device "{itf.peer}" already exists on {h.name}')
                devs[itf.peer] = itf.mark
            nifs.append(itf)
        namespaces.append(replace(n, interfaces=tuple(nifs)))
    return replace(h, interfaces=tuple(ifaces), namespaces=tuple(namespaces))
