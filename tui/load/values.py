"""Parsers for single values, shared by the loader and the TUI's forms.

Each raises :class:`ValueError` with a message meant for a person; callers add
the location.
"""

from __future__ import annotations

import ipaddress
import re

from ..model.topology import DEFAULT_V4, IPAddress, IPInterface, IPNetwork

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_IFNAME_BAD = re.compile(r"[\s/:]")


_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def _label(name: str, pattern: re.Pattern, what: str, start: str) -> str:
    if len(name) > 63:
        return f'"{name}" is longer than 63 characters'
    if not pattern.match(name):
        return f'"{name}" is not a valid {what}: lower-case letters, digits and "-", starting with {start} and ending with a letter or digit'
    return ""


def dns1123_label(name: str) -> str:
    """A Kubernetes DNS-1123 label: lower-case alphanumerics and '-', at most 63; '' when valid, else why not."""
    return _label(name, _LABEL, "DNS-1123 label", "a letter or digit")


def dns1035_label(name: str) -> str:
    """A DNS-1035 label (Service names): like DNS-1123 but starting with a letter."""
    return _label(name, _DNS1035, "DNS-1035 label", "a letter")


def dns1123_subdomain(name: str) -> str:
    """A Kubernetes DNS-1123 subdomain: dot-separated labels, at most 253."""
    if len(name) > 253:
        return f'"{name}" is longer than 253 characters'
    for part in name.split("."):
        if not _LABEL.match(part):
            return f'"{name}" is not a valid DNS-1123 subdomain: lower-case letters, digits, "-" and ".", each part starting and ending with a letter or digit'
    return ""


def parse_name(name: str) -> str:
    """A host, network or container name: letters, digits, '-', '_' and '.', at most 63."""
    if not name:
        raise ValueError("a name cannot be empty")
    if len(name) > 63:
        raise ValueError(f'"{name}" is longer than 63 characters')
    if not _HOSTNAME.match(name):
        raise ValueError(f'"{name}" is not a valid name: letters, digits, "-", "_" and ".", starting and ending with a letter or digit')
    return name


def parse_ifname(name: str) -> str:
    """A Linux interface name: at most 15 bytes, no '/', ':' or white space."""
    if not name or name in (".", ".."):
        raise ValueError(f'"{name}" is not a valid interface name')
    if len(name.encode()) > 15:
        raise ValueError(f'interface name "{name}" is longer than 15 characters (Linux IFNAMSIZ)')
    if _IFNAME_BAD.search(name):
        raise ValueError(f'interface name "{name}" cannot contain "/", ":" or spaces')
    return name


def parse_ip(text: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f'"{text}" is not an IP address') from None


def parse_interface_address(text: str) -> IPInterface:
    """``192.168.1.10/24`` as ``ip addr add`` takes it (a prefix length is required)."""
    if "/" not in text:
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise ValueError(f'"{text}" is not an IP address with a prefix length (like 192.168.1.10/24)') from None
        raise ValueError(f'"{text}" needs a prefix length, e.g. {text}/24')
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        ip, _, plen = text.partition("/")
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise ValueError(f'"{text}": "{ip}" is not an IP address') from None
        raise ValueError(f'"{text}": "/{plen}" is not a valid prefix length') from None
    ip = iface.ip
    if ip.is_unspecified:
        raise ValueError(f'"{text}": the unspecified address cannot be assigned')
    if ip.is_multicast:
        raise ValueError(f'"{text}": a multicast address cannot be assigned')
    if iface.version == 4 and iface.network.prefixlen < 31:
        if ip == iface.network.network_address:
            raise ValueError(f'"{text}" is the network address of {iface.network}, not a host address')
        if ip == iface.network.broadcast_address:
            raise ValueError(f'"{text}" is the broadcast address of {iface.network}, not a host address')
    return iface


def parse_route_to(text: str) -> IPNetwork:
    """A route's destination: ``default``, a prefix, or a bare address (a /32 host route)."""
    if text == "default":
        return DEFAULT_V4
    return parse_cidr(text, bare=True)


def parse_cidr(text: str, bare: bool = False) -> IPNetwork:
    """A network prefix; host bits must be zero, as ``ip route`` insists."""
    if "/" not in text and not bare:
        raise ValueError(f'"{text}" needs a prefix length, like 10.0.0.0/8')
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f'"{text}" is not a network prefix (like 10.0.0.0/8)') from None
    if int(net.network_address) != int(ipaddress.ip_interface(text).ip):
        raise ValueError(f'"{text}" has host bits set: did you mean {net}? (ip route: Invalid prefix for given prefix length)')
    return net


def parse_cidrs(text: str) -> tuple:
    """One CIDR, or two of different families separated by a comma, as kube-apiserver's
    ``--service-cluster-ip-range`` and kube-controller-manager's ``--cluster-cidr`` take them."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) > 2:
        raise ValueError(f'"{text}": at most two CIDRs, one IPv4 and one IPv6 (dual-stack)')
    nets = tuple(parse_cidr(p) for p in parts)
    if len(nets) == 2 and nets[0].version == nets[1].version:
        raise ValueError(f'"{text}": a dual-stack pair is one IPv4 and one IPv6 CIDR, not two IPv{nets[0].version} ones')
    return nets


def parse_port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a port number")
    if not 1 <= value <= 65535:
        raise ValueError(f"port {value} is out of range 1-65535")
    return value


def parse_protocol(text: str, allowed=("tcp", "udp", "icmp")) -> str:
    p = str(text).lower()
    if p not in allowed:
        raise ValueError(f'"{text}" is not a protocol: one of {", ".join(allowed)}')
    return p
