"""The catalogue ``kubenet-tui generate`` (:mod:`tui.k8s.generate`) draws a cluster's applications from.

Kinds of applications (:class:`Archetype`: web and gRPC services, frontends, datastores, brokers, workers),
each with its image, container ports and Service ports and weighted by how common it is; the pools of app
and namespace names; and how often an app's main Service is ClusterIP, headless, NodePort or LoadBalancer,
and which companion Services it may have. Data only: :func:`tui.k8s.generate.plan` does the drawing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Archetype:
    """A kind of application: its image, container ports ``(name, port, protocol)`` and Service ports
    ``(name, port, targetPort name, protocol)``; ``names`` to pick app names from."""

    key: str
    image: str  # {ns}, {app} and {version} are filled in
    ports: tuple
    service_ports: tuple
    names: tuple
    weight: int
    cpu: str = "100m"
    memory: str = "128Mi"
    stateful: bool = False  # datastores: a headless companion is likely


_WEB_NAMES = ("api", "web", "gateway", "orders", "payments", "checkout", "cart", "catalog", "search", "auth", "users", "accounts",
              "inventory", "shipping", "pricing", "reviews", "recommendations", "notifications", "billing", "invoices", "ledger",
              "profile", "sessions", "media", "uploads", "thumbnails", "reports", "admin", "graphql", "webhooks", "emails", "sms",
              "feeds", "geo", "config", "feature-flags", "audit", "tokens", "quotes", "subscriptions", "coupons", "loyalty",
              "returns", "tracking", "ratings", "wishlist", "content", "assets", "analytics", "events", "bff", "edge")
_GRPC_NAMES = ("orders-grpc", "pricing-engine", "fraud-detector", "identity", "ranking", "matching", "scoring", "routing",
               "scheduler", "ledger-core", "tax", "currency", "availability", "forecast", "embeddings", "classifier")
_FRONT_NAMES = ("frontend", "storefront", "admin-ui", "docs", "landing", "dashboard", "portal", "console", "status-page", "help-center")
_WORKER_NAMES = ("worker", "consumer", "indexer", "mailer", "exporter", "importer", "sync", "cleanup", "billing-worker",
                 "resizer", "crawler", "etl", "notifier", "reconciler", "dispatcher", "aggregator")
_QUALIFIERS = ("internal", "public", "legacy", "v2", "edge", "batch", "realtime", "mobile", "partner", "core", "read", "write",
               "eu", "us", "beta", "canary")

ARCHETYPES = (
    Archetype("http", "registry.example.com/{ns}/{app}:{version}", (("http", 8080, "TCP"), ("metrics", 9090, "TCP")),
              (("http", 80, "http", "TCP"),), _WEB_NAMES, 44),
    Archetype("grpc", "registry.example.com/{ns}/{app}:{version}", (("grpc", 50051, "TCP"), ("metrics", 9090, "TCP")),
              (("grpc", 50051, "grpc", "TCP"),), _GRPC_NAMES, 14, "250m", "256Mi"),
    Archetype("http-grpc", "registry.example.com/{ns}/{app}:{version}",
              (("http", 8080, "TCP"), ("grpc", 9000, "TCP"), ("metrics", 9090, "TCP")),
              (("http", 80, "http", "TCP"), ("grpc", 9000, "grpc", "TCP")), _WEB_NAMES, 10, "200m", "256Mi"),
    Archetype("frontend", "nginxinc/nginx-unprivileged:1.27-alpine", (("http", 8080, "TCP"), ("https", 8443, "TCP")),
              (("http", 80, "http", "TCP"), ("https", 443, "https", "TCP")), _FRONT_NAMES, 8, "50m", "64Mi"),
    Archetype("redis", "redis:7.4-alpine", (("redis", 6379, "TCP"),), (("redis", 6379, "redis", "TCP"),),
              ("redis", "redis-cache", "redis-sessions", "redis-queue", "cache"), 5, "100m", "256Mi", True),
    Archetype("postgres", "postgres:16.4", (("postgres", 5432, "TCP"),), (("postgres", 5432, "postgres", "TCP"),),
              ("postgres", "db", "postgres-main", "pg"), 4, "500m", "1Gi", True),
    Archetype("mysql", "mysql:8.4", (("mysql", 3306, "TCP"),), (("mysql", 3306, "mysql", "TCP"),), ("mysql", "mariadb", "sql"),
              2, "500m", "1Gi", True),
    Archetype("mongodb", "mongo:7.0", (("mongodb", 27017, "TCP"),), (("mongodb", 27017, "mongodb", "TCP"),), ("mongodb", "mongo", "docdb"),
              2, "500m", "1Gi", True),
    Archetype("kafka", "apache/kafka:3.8.0", (("kafka", 9092, "TCP"), ("controller", 9093, "TCP")),
              (("kafka", 9092, "kafka", "TCP"),), ("kafka", "events-broker", "stream"), 2, "1", "2Gi", True),
    Archetype("rabbitmq", "rabbitmq:3.13-management", (("amqp", 5672, "TCP"), ("management", 15672, "TCP")),
              (("amqp", 5672, "amqp", "TCP"), ("management", 15672, "management", "TCP")), ("rabbitmq", "queue", "broker"), 2,
              "250m", "512Mi", True),
    Archetype("memcached", "memcached:1.6-alpine", (("memcache", 11211, "TCP"),), (("memcache", 11211, "memcache", "TCP"),),
              ("memcached", "page-cache"), 2, "100m", "256Mi"),
    Archetype("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.15.2", (("http", 9200, "TCP"), ("transport", 9300, "TCP")),
              (("http", 9200, "http", "TCP"),), ("elasticsearch", "search-index", "logs-es"), 1, "1", "2Gi", True),
    Archetype("statsd", "prom/statsd-exporter:v0.27.1", (("statsd-udp", 9125, "UDP"), ("metrics", 9102, "TCP")),
              (("statsd-udp", 9125, "statsd-udp", "UDP"),), ("statsd", "metrics-ingest"), 1, "50m", "64Mi"),
)
WORKER = Archetype("worker", "registry.example.com/{ns}/{app}:{version}", (("metrics", 9090, "TCP"),), (), _WORKER_NAMES, 0,
                   "200m", "256Mi")
COREDNS_LABELS = {"k8s-app": "kube-dns"}

_NAMESPACES = ("shop", "payments", "checkout", "catalog", "search", "identity", "billing", "orders", "inventory", "shipping",
               "notifications", "media", "analytics", "data", "ml", "reporting", "messaging", "gateway", "platform", "observability",
               "streaming", "partners", "loyalty", "pricing", "fraud", "cms", "marketing", "support", "warehouse", "fulfillment",
               "ads", "growth", "mobile", "backoffice", "finance", "risk", "content", "social", "maps", "travel", "booking",
               "tickets", "chat", "video", "storage", "devtools", "security", "compliance")
# Service types of an app's main Service, and of its companions
PRIMARY_TYPES = (("ClusterIP", 82), ("headless", 7), ("NodePort", 7), ("LoadBalancer", 4))
COMPANIONS = {"headless": "headless", "metrics": "ClusterIP", "public": "LoadBalancer", "nodeport": "NodePort"}
