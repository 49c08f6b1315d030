"""The real-kernel lab: the simulated topology built from network namespaces, veth pairs, bridges, VXLAN,
routes and iptables on this machine (root only), and probes that compare each prediction of the simulator
with what the kernel does. :mod:`.plan` works out what to build (no kernel), :mod:`.kernel` builds and
removes it (pyroute2), :mod:`.serve` runs the listeners and DNS servers, :mod:`.verify` probes."""
