"""Read ``kind: Topology`` documents into the description, field by field."""

from __future__ import annotations

import ipaddress

from ..model.topology import (
    Bridge,
    ClusterConfig,
    Container,
    DockerBridge,
    Host,
    Interface,
    Namespace,
    Network,
    Policy,
    Route,
    Rule,
)
from .errors import Problems
from .fields import Fields
from .values import parse_cidr, parse_cidrs, parse_ifname, parse_interface_address, parse_ip, parse_name, parse_route_to
from .yamlsrc import YMap

TOPOLOGY_FIELDS = ("apiVersion", "kind", "metadata", "description", "networks", "hosts", "containers", "cluster")
METADATA_FIELDS = ("name", "description", "labels", "annotations")
NETWORK_FIELDS = ("name", "cidr", "description")
HOST_FIELDS = ("name", "description", "forwarding", "role", "interfaces", "routes", "bridges", "namespaces", "docker", "containers", "iptables")
IFACE_FIELDS = ("name", "network", "address", "addresses", "mac", "mtu", "metric", "description")
NS_IFACE_FIELDS = ("name", "bridge", "peer", "address", "addresses", "mac", "mtu", "metric", "description")
ROUTE_FIELDS = ("to", "via", "dev", "metric", "type", "src", "onlink", "description")
BRIDGE_FIELDS = ("name", "address", "addresses", "description")
NAMESPACE_FIELDS = ("name", "interfaces", "routes", "forwarding", "description")
DOCKER_FIELDS = ("bridge", "cidr", "address")
CONTAINER_FIELDS = ("name", "host", "address", "ports", "description")
CLUSTER_FIELDS = ("name", "domain", "podCIDR", "nodeCIDRMaskSize", "serviceCIDR", "dns", "cni", "kubeProxy", "loadBalancerPool", "ipipMode", "nodeCIDRMaskSizeIPv6", "ingress")
CNI_PLUGINS = ("bridge", "host-gw", "flannel", "calico", "cilium")
PROXY_MODES = ("iptables", "ipvs", "nftables")
IPIP_MODES = ("Never", "Always", "CrossSubnet")
ROUTE_TYPES = ("unicast", "blackhole", "unreachable", "prohibit")


class TopologyDoc:
    """What one Topology document said, before the cross-document checks."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.description = ""
        self.networks: list[Network] = []
        self.hosts: list[Host] = []
        self.containers: list[tuple[Container, str]] = []  # top-level containers, with their path
        self.cluster: ClusterConfig | None = None
        self.paths: dict = {}  # mark -> field path, to locate errors found later
        self.fields: dict = {}  # mark -> {field: mark of its value}


def read_topology(m: YMap, path: str, problems: Problems) -> TopologyDoc:
    f = Fields(m, path, problems, TOPOLOGY_FIELDS)
    doc = TopologyDoc()
    meta = f.sub("metadata", METADATA_FIELDS)
    if meta is not None:
        doc.name = meta.parse("name", parse_name)
        doc.description = meta.get("description", str, "") or ""
        meta.get("labels", YMap)
        meta.get("annotations", YMap)
        meta.done()
    doc.description = f.get("description", str, doc.description) or doc.description
    for _, item, p in f.maps("networks"):
        n = Fields(item, p, problems, NETWORK_FIELDS)
        name = n.parse("name", parse_name, required=True)
        cidr = n.parse("cidr", parse_cidr)
        n.get("description", str)
        n.done()
        if name:
            doc.networks.append(Network(name, cidr, mark=item.mark))
            doc.paths[item.mark] = p
    for _, item, p in f.maps("hosts"):
        h = _host(Fields(item, p, problems, HOST_FIELDS), doc)
        if h is not None:
            doc.hosts.append(h)
    for _, item, p in f.maps("containers"):
        c = Fields(item, p, problems, CONTAINER_FIELDS)
        name = c.parse("name", parse_name, required=True)
        host = c.get("host", str, required=True)
        addr = c.get("address", str)
        ports = _ports(c)
        c.get("description", str)
        c.done()
        if name and host:
            doc.containers.append((Container(name, host, _container_addr(c, addr), ports, item.mark), p))
            doc.paths[item.mark] = p
    cl = f.sub("cluster", CLUSTER_FIELDS)
    if cl is not None:
        doc.cluster = _cluster(cl, m.vmark("cluster"))
    f.done()
    return doc


def _addresses(f: Fields) -> tuple:
    out = []
    a = f.parse("address", parse_interface_address)
    if a is not None:
        out.append(a)
    for _, item, mark, p in f.items("addresses"):
        if not isinstance(item, str):
            f.problems.error(mark, p, "expected an address like 192.168.1.10/24")
            continue
        try:
            out.append(parse_interface_address(item))
        except ValueError as e:
            f.problems.error(mark, p, str(e))
    return tuple(out)


def _mtu(f: Fields) -> int:
    mtu = f.get("mtu", int, 1500)
    if not 68 <= mtu <= 65535:
        f.error("mtu", f"MTU {mtu} is out of range 68-65535")
        mtu = 1500
    return mtu


def _mac(f: Fields) -> str | None:
    mac = f.get("mac", str)
    if mac is None:
        return None
    parts = mac.split(":")
    if len(parts) != 6 or not all(len(x) == 2 and all(c in "0123456789abcdefABCDEF" for c in x) for x in parts):
        f.error("mac", f'"{mac}" is not a MAC address like 02:42:ac:11:00:02')
        return None
    if int(parts[0], 16) & 1:
        f.error("mac", f'"{mac}" is a multicast MAC address')
        return None
    return mac.lower()


def _interface(f: Fields, inner: bool, doc: TopologyDoc) -> Interface | None:
    name = f.parse("name", parse_ifname, required=True)
    network = None if inner else f.get("network", str)
    bridge = f.get("bridge", str) if inner else None
    peer = f.parse("peer", parse_ifname) if inner else None
    addrs = _addresses(f)
    mac = _mac(f)
    mtu = _mtu(f)
    metric = f.get("metric", int, 0)
    if not 0 <= metric <= 4294967295:
        f.error("metric", f"metric {metric} is out of range 0-4294967295")
        metric = 0
    f.get("description", str)
    f.done()
    if name is None:
        return None
    doc.paths[f.m.mark] = f.path
    return Interface(name, addrs, network, bridge, peer, mac, mtu, metric, mark=f.m.mark)


def _route(f: Fields, doc: TopologyDoc) -> Route | None:
    to_text = f.get("to", str, required=True)
    to = None
    if to_text is not None:
        try:
            to = parse_route_to(to_text)
        except ValueError as e:
            f.error("to", str(e))
    via = f.parse("via", parse_ip)
    dev = f.parse("dev", parse_ifname)
    metric = f.get("metric", int, 0)
    if not 0 <= metric <= 4294967295:
        f.error("metric", f"metric {metric} is out of range 0-4294967295")
        metric = 0
    rtype = f.get("type", str, "unicast")
    if rtype not in ROUTE_TYPES:
        f.error("type", f'unknown route type "{rtype}": one of {", ".join(ROUTE_TYPES)}')
        rtype = "unicast"
    src = f.parse("src", parse_ip)
    onlink = f.get("onlink", bool, False)
    f.get("description", str)
    f.done()
    if to is None:
        return None
    if to_text == "default" and via is not None and via.version == 6:
        to = ipaddress.IPv6Network("::/0")
    if rtype != "unicast" and (via is not None or dev is not None):
        f.error("type", f"a {rtype} route takes no via or dev (ip route: Gateway, device and multipath can not be specified for this route type)")
        return None
    if rtype == "unicast" and via is None and dev is None:
        if f.m.get("via") is None and f.m.get("dev") is None:  # an invalid via or dev is reported already
            f.problems.error(f.m.mark, f.path, "a route needs a gateway (via) or a device (dev)")
        return None
    r = Route(to, via, dev, metric, rtype, src, onlink, mark=f.m.mark)
    doc.paths[f.m.mark] = f.path
    doc.fields[f.m.mark] = dict(f.m.vmarks)
    return r


def _rules(f: Fields, doc: TopologyDoc) -> tuple[tuple[Rule, ...], tuple[Policy, ...]]:
    from .iptables import RuleError, parse_rule

    rules, policies = [], []
    for _, item, mark, p in f.items("iptables"):
        if not isinstance(item, str):
            f.problems.error(mark, p, "expected an iptables command line, like -t nat -A POSTROUTING -o eth0 -j MASQUERADE")
            continue
        try:
            parsed = parse_rule(item, mark)
        except RuleError as e:
            f.problems.error(mark, p, f"iptables: {e}")
            continue
        doc.paths[mark] = p
        if isinstance(parsed, Policy):
            policies.append(parsed)
        elif parsed is not None:
            rules.append(parsed)
    return tuple(rules), tuple(policies)


def _host(f: Fields, doc: TopologyDoc) -> Host | None:
    problems = f.problems
    name = f.parse("name", parse_name, required=True)
    forwarding = f.get("forwarding", bool, False)
    role = f.get("role", str)
    f.get("description", str)
    ifaces = [i for _, item, p in f.maps("interfaces") if (i := _interface(Fields(item, p, problems, IFACE_FIELDS), False, doc))]
    if role == "node" and not any(a.version == 4 for i in ifaces for a in i.addresses):
        f.error("interfaces", "a Kubernetes node needs an IPv4 address on one of its interfaces: its InternalIP, which the other "
                              "nodes route its pods' traffic to")
    routes = [r for _, item, p in f.maps("routes") if (r := _route(Fields(item, p, problems, ROUTE_FIELDS), doc))]
    bridges = []
    for _, item, p in f.maps("bridges"):
        b = Fields(item, p, problems, BRIDGE_FIELDS)
        bname = b.parse("name", parse_ifname, required=True)
        addrs = _addresses(b)
        b.get("description", str)
        b.done()
        if bname:
            bridges.append(Bridge(bname, addrs, item.mark))
    namespaces = []
    for _, item, p in f.maps("namespaces"):
        n = Fields(item, p, problems, NAMESPACE_FIELDS)
        nname = n.parse("name", parse_name, required=True)
        nifs = [i for _, it, ip in n.maps("interfaces") if (i := _interface(Fields(it, ip, problems, NS_IFACE_FIELDS), True, doc))]
        nroutes = [r for _, it, ip in n.maps("routes") if (r := _route(Fields(it, ip, problems, ROUTE_FIELDS), doc))]
        nfwd = n.get("forwarding", bool, False)
        n.get("description", str)
        n.done()
        if nname:
            namespaces.append(Namespace(nname, tuple(nifs), tuple(nroutes), nfwd, mark=item.mark))
            doc.paths[item.mark] = p
    docker = None
    if f.has("docker"):
        if f.m["docker"] is True or f.m["docker"] is None:
            docker = DockerBridge(mark=f.mark("docker"))
        elif f.m["docker"] is not False:
            d = f.sub("docker", DOCKER_FIELDS)
            if d is not None:
                docker = _docker(d)
    containers = []
    for _, item, p in f.maps("containers"):
        c = Fields(item, p, problems, CONTAINER_FIELDS)
        cname = c.parse("name", parse_name, required=True)
        chost = c.get("host", str)
        if chost is not None and name is not None and chost != name:
            c.error("host", f'a container listed under host "{name}" cannot name another host ("{chost}")')
        addr = c.get("address", str)
        ports = _ports(c)
        c.get("description", str)
        c.done()
        if cname:
            containers.append(Container(cname, name or "", _container_addr(c, addr), ports, item.mark))
            doc.paths[item.mark] = p
    rules, policies = _rules(f, doc)
    f.done()
    if name is None:
        return None
    doc.paths[f.m.mark] = f.path
    return Host(name, tuple(ifaces), tuple(routes), forwarding, tuple(bridges), tuple(namespaces), docker,
                tuple(containers), rules, policies, role, mark=f.m.mark)


def _docker(d: Fields) -> DockerBridge:
    bridge = d.parse("bridge", parse_ifname, "docker0")
    cidr = d.parse("cidr", parse_cidr, ipaddress.IPv4Network("172.17.0.0/16"))
    if cidr.version != 4:
        d.error("cidr", "the Docker bridge network is IPv4 here")
        cidr = ipaddress.IPv4Network("172.17.0.0/16")
    gw_text = d.get("address", str)
    if cidr.prefixlen == 32:
        d.error("cidr", f"{cidr} is a single address: no room for the bridge's address and the containers'")
        cidr = ipaddress.IPv4Network("172.17.0.0/16")
    gateway = ipaddress.IPv4Interface(f"{next(iter(cidr.hosts()))}/{cidr.prefixlen}")
    if gw_text is not None:
        try:
            ip = parse_ip(gw_text.split("/")[0])
            if ip not in cidr:
                d.error("address", f"{ip} is not in the bridge network {cidr}")
            elif ip in (cidr.network_address, cidr.broadcast_address):
                d.error("address", f"{ip} is the network or broadcast address of {cidr}, not a host address")
            else:
                gateway = ipaddress.IPv4Interface(f"{ip}/{cidr.prefixlen}")
        except ValueError as e:
            d.error("address", str(e))
    d.done()
    return DockerBridge(bridge, cidr, gateway, d.m.mark)


def _ports(c: Fields) -> tuple[tuple[int, int, str], ...]:
    """``ports: ["8080:80", "5353:53/udp"]`` as ``docker run -p`` takes them."""
    out = []
    for _, item, mark, p in c.items("ports"):
        text = str(item)
        spec, _, proto = text.partition("/")
        proto = proto or "tcp"
        host_port, sep, cport = spec.rpartition(":")
        try:
            if not sep or proto not in ("tcp", "udp", "sctp"):
                raise ValueError
            hp, cp = int(host_port), int(cport)
            if not (1 <= hp <= 65535 and 1 <= cp <= 65535):
                raise ValueError
        except ValueError:
            c.problems.error(mark, p, f'"{text}" is not a published port like "8080:80" or "5353:53/udp"')
            continue
        out.append((hp, cp, proto))
    return tuple(out)


_UNSET = ipaddress.IPv4Interface("0.0.0.0/0")


def _container_addr(c: Fields, text: str | None) -> ipaddress.IPv4Interface:
    """A container's address as written (prefix optional); ``0.0.0.0/0`` until Docker assigns one."""
    if text is None:
        return _UNSET
    try:
        if "/" in text:
            a = parse_interface_address(text)
        else:
            a = ipaddress.ip_interface(f"{parse_ip(text)}/32")
        if a.version != 4:
            raise ValueError("a container address on the Docker bridge is IPv4 here")
        return a  # type: ignore[return-value]
    except ValueError as e:
        c.error("address", str(e))
        return _UNSET


def is_unset(addr: ipaddress.IPv4Interface) -> bool:
    return addr == _UNSET


def _cluster(f: Fields, mark) -> ClusterConfig:
    d = ClusterConfig()
    name = f.parse("name", parse_name, d.name)
    domain = f.get("domain", str, d.domain)
    pods = f.parse("podCIDR", parse_cidrs, (d.pod_cidr,)) or (d.pod_cidr,)
    size = f.get("nodeCIDRMaskSize", int, d.node_cidr_mask_size)
    size6 = f.get("nodeCIDRMaskSizeIPv6", int, d.node_cidr_mask_size6)
    svcs = f.parse("serviceCIDR", parse_cidrs, (d.service_cidr,)) or (d.service_cidr,)
    pod, svc = pods[0], svcs[0]
    for key, nets in (("podCIDR", pods), ("serviceCIDR", svcs)):
        if nets[0].version == 6:  # the data path routes pods by their IPv4 first; IPv6 rides along (dual-stack)
            f.error(key, f"an IPv6-only or IPv6-first cluster is not simulated: give the IPv4 CIDR first, then the IPv6 one "
                         f"(dual-stack), e.g. {'10.244.0.0/16' if key == 'podCIDR' else '10.96.0.0/12'},{nets[0]}")
            pods, svcs = (d.pod_cidr,), (d.service_cidr,)
            pod, svc = pods[0], svcs[0]
    pod2 = pods[1] if len(pods) > 1 else None
    svc2 = svcs[1] if len(svcs) > 1 else None
    if pod.version != svc.version or (pod2 is not None and (svc2 is None or pod2.version != svc2.version)):
        f.error("serviceCIDR", f"the pod CIDRs ({', '.join(map(str, pods))}) and service CIDRs ({', '.join(map(str, svcs))}) "
                               "must cover the same IP families in the same order")
        pod2 = svc2 = None
    if pod2 is not None and size6 is not None and not pod2.prefixlen <= size6 <= 128:
        f.error("nodeCIDRMaskSizeIPv6", f"a /{size6} per node does not fit the pod CIDR {pod2}")
        size6 = 64
    if pod2 is not None and svc2 is not None and pod2.overlaps(svc2):
        f.error("serviceCIDR", f"the service CIDR {svc2} overlaps the pod CIDR {pod2}")
    dns_ip = None
    upstream_records: tuple = ()
    upstream_servers: tuple = ()
    dns = f.sub("dns", ("clusterIP", "upstream"))
    if dns is not None:
        dns_ip = dns.parse("clusterIP", parse_ip)
        up = dns.sub("upstream", ("records", "nameservers"))
        if up is not None:
            upstream_records, upstream_servers = _dns_upstream(up)
        dns.done()
    cni = f.get("cni", str, d.cni)
    if cni not in CNI_PLUGINS:
        f.error("cni", f'unknown CNI plugin "{cni}": one of {", ".join(CNI_PLUGINS)}')
        cni = d.cni
    mode = d.kube_proxy_mode
    if f.has("kubeProxy"):
        kp = f.sub("kubeProxy", ("mode",))
        if kp is not None:
            mode = kp.get("mode", str, mode)
            kp.done()
        if mode not in PROXY_MODES:
            f.error("kubeProxy", f'unknown kube-proxy mode "{mode}": one of {", ".join(PROXY_MODES)}')
            mode = d.kube_proxy_mode
    if size is not None and pod is not None and not pod.prefixlen <= size <= pod.max_prefixlen:
        f.error("nodeCIDRMaskSize", f"a /{size} per node does not fit the pod CIDR {pod}")
        size = max(pod.prefixlen, min(d.node_cidr_mask_size, pod.max_prefixlen))
    if svc is not None and pod is not None and svc.overlaps(pod):
        f.error("serviceCIDR", f"the service CIDR {svc} overlaps the pod CIDR {pod}")
    if dns_ip is None and svc is not None:
        dns_ip = svc.network_address + 10
    elif dns_ip is not None and svc is not None and dns_ip not in svc:
        f.error("dns", f"the DNS clusterIP {dns_ip} is not in the service CIDR {svc}")
    if domain and not all(part and part.replace("-", "").isalnum() for part in domain.split(".")):
        f.error("domain", f'"{domain}" is not a DNS domain')
        domain = d.domain
    if cni == "calico" and pod2 is not None:
        f.problems.warn(f.m.vmark("cni"), f.at("cni"), "Calico's IPv6 data path (a link-local gateway per pod) is not simulated: "
                                                        "pods get their IPv6 addresses, but IPv6 traffic has no route")
    pool = f.parse("loadBalancerPool", parse_cidr)
    ipip = f.get("ipipMode", str, "Never")
    if ipip not in IPIP_MODES:
        f.error("ipipMode", f'unknown ipipMode "{ipip}": one of {", ".join(IPIP_MODES)} (Calico\'s IPPool spec.ipipMode)')
        ipip = "Never"
    elif ipip != "Never" and cni != "calico":
        f.error("ipipMode", f"ipipMode is Calico's setting: the cluster's CNI plugin is {cni}")
    ing_ctl, ing_svc = _ingress(f, pool)
    f.done()
    return ClusterConfig(name, domain, pod, size, svc, dns_ip, cni, mode, True, pool, mark=mark, ipip_mode=ipip,
                         pod_cidr2=pod2, service_cidr2=svc2, node_cidr_mask_size6=size6 or 64,
                         dns_upstream_records=upstream_records, dns_upstream_nameservers=upstream_servers,
                         ingress_controller=ing_ctl, ingress_service=ing_svc)


INGRESS_CONTROLLERS = ("nginx", "haproxy", "traefik")


def _ingress(f: Fields, pool) -> tuple[str | None, str | None]:
    """``ingress: nginx`` or ``ingress: {controller: nginx, service: NodePort}``: the controller the simulator runs."""
    if not f.has("ingress"):
        return None, None
    if isinstance(f.m["ingress"], str):
        ctl, svc = f.get("ingress", str), None
    else:
        sub = f.sub("ingress", ("controller", "service"))
        if sub is None:
            return None, None
        ctl = sub.get("controller", str, "nginx")
        svc = sub.get("service", str, None)
        if svc is not None and svc not in ("LoadBalancer", "NodePort"):
            sub.error("service", f'the Service in front of the controller is LoadBalancer or NodePort, not "{svc}"')
            svc = None
        elif svc == "LoadBalancer" and pool is None:
            sub.error("service", "a LoadBalancer needs cluster.loadBalancerPool (the addresses it hands out)")
            svc = None
        sub.done()
        if not isinstance(ctl, str):
            return None, None
    if ctl not in INGRESS_CONTROLLERS:
        f.error("ingress", f'unknown Ingress controller "{ctl}": one of {", ".join(INGRESS_CONTROLLERS)}')
        return None, None
    return ctl, svc


def _dns_upstream(f: Fields) -> tuple[tuple, tuple]:
    """``cluster.dns.upstream``: zone-file ``records`` the simulated upstream answers, the nodes' ``nameservers``."""
    from ..dns.upstream import check_records, parse_record

    records, marks = [], []
    for _, item, mark, p in f.items("records"):
        if not isinstance(item, str):
            f.problems.error(mark, p, "expected a zone-file line like: example.com. 300 IN A 93.184.216.34")
            continue
        try:
            records.append(parse_record(item))
            marks.append((mark, p))
        except ValueError as e:
            f.problems.error(mark, p, str(e))
    for i, message in check_records(records):
        f.problems.error(marks[i][0], marks[i][1], message)
    servers = []
    for _, item, mark, p in f.items("nameservers"):
        try:
            if not isinstance(item, str):
                raise ValueError(f"expected an IP address, got {item!r}")
            servers.append(parse_ip(item))
        except ValueError as e:
            f.problems.error(mark, p, str(e))
    if len(servers) > 3:
        f.error("nameservers", f"at most 3 nameservers (glibc's MAXNS), got {len(servers)}")
        servers = servers[:3]
    f.done()
    return tuple(records), tuple(servers)
