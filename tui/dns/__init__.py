"""The cluster's DNS: CoreDNS's kubernetes plugin, its Corefile, the upstream it forwards to, and the pods' resolvers.

Layout (none of it imports textual or rich; only :mod:`tui.dns.server` and the upstream record parser import
dnspython, lazily):

- :mod:`tui.dns.records` - ``Record`` (one zone-file line) and ``Answer`` (a reply: rcode, answer, authority,
  additional), with the name helpers every module shares;
- :mod:`tui.dns.corefile` - the Corefile of ConfigMap ``kube-system/coredns`` (or kubeadm's default), parsed;
- :mod:`tui.dns.sources` - what CoreDNS watches: Services, EndpointSlices (given, mirrored from Endpoints, or made
  from the pods as the EndpointSlice controller makes them), Pods and Namespaces; and the default CoreDNS
  (Service ``kube-dns``, Deployment ``coredns``) when no Service holds the cluster DNS address;
- :mod:`tui.dns.slices` - the EndpointSlice controller and the containers ``collect`` fills when first read;
- :mod:`tui.dns.kubernetes` - the kubernetes plugin, ported function by function from CoreDNS, with
  :mod:`tui.dns.lookup` (backend_lookup.go) and :mod:`tui.dns.explain` (why a name does not resolve);
- :mod:`tui.dns.upstream` - the simulated upstream resolver (``cluster.dns.upstream.records``);
- :mod:`tui.dns.zone` - the server: server blocks, plugin chain, ``build()``, ``Zone.query()`` and ``Zone.records()``;
- :mod:`tui.dns.resolver` - each pod's resolv.conf (dnsPolicy) and glibc's search-list walk;
- :mod:`tui.dns.dig` - answers printed as dig prints them, and as JSON;
- :mod:`tui.dns.server` - a real DNS server (UDP and TCP) answering from a ``Zone``.
"""
