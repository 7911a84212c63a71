"""The Celery broker settings for a broker URL, in one place: settings.py uses them, and so do the tests
that point a process at a broker of their own (the web process must declare queues exactly as the
workers do, or RabbitMQ refuses the publish)."""

from __future__ import annotations

from typing import Any

AMQP_SCHEMES = ("amqp://", "amqps://", "pyamqp://")


def is_amqp(url: str) -> bool:
    return url.startswith(AMQP_SCHEMES)


def amqp_settings(url: str) -> dict[str, Any]:
    """RabbitMQ (docs/RELIABILITY.md): quorum queues (durable and replicated: a message survives a broker
    restart), publisher confirms (a publish returns only once the broker has the message), and the money
    tasks' acks_late: an unacknowledged message is redelivered as soon as its worker's connection drops."""
    return {
        "CELERY_BROKER_URL": url,
        "CELERY_TASK_DEFAULT_QUEUE_TYPE": "quorum",
        "CELERY_TASK_CREATE_MISSING_QUEUE_TYPE": "quorum",  # the "payments" queue too
        # Countdowns on quorum queues go through Celery's native delayed delivery, which binds topic exchanges.
        "CELERY_TASK_DEFAULT_EXCHANGE_TYPE": "topic",
        "CELERY_TASK_CREATE_MISSING_QUEUE_EXCHANGE_TYPE": "topic",
        "CELERY_WORKER_DETECT_QUORUM_QUEUES": True,  # quorum queues refuse global QoS: per-consumer prefetch
        "CELERY_BROKER_TRANSPORT_OPTIONS": {"confirm_publish": True},
        # AMQP heartbeats every 10 s: a worker whose connection died without a FIN reaching it (an idle
        # consumer behind a proxy or NAT, a broker host that vanished) notices within seconds, not minutes.
        "CELERY_BROKER_HEARTBEAT": 10,
    }


def redis_settings(
    url: str, *, visibility_timeout: int = 3600, restore_interval: int = 10, restore_throttle: int = 10
) -> dict[str, Any]:
    """Redis: an unacknowledged (acks_late) message comes back after the visibility timeout."""
    return {
        "CELERY_BROKER_URL": url,
        # kombu's Redis transport, with the fix that keeps a worker alive when Redis restarts.
        "CELERY_BROKER_TRANSPORT": "config.kombu_redis:Transport",
        "CELERY_BROKER_TRANSPORT_OPTIONS": {
            "visibility_timeout": visibility_timeout,
            # How often a worker looks for messages whose visibility timeout passed (kombu: interval x throttle).
            "unacked_restore_interval": restore_interval,
            "unacked_restore_throttle": restore_throttle,
        },
    }


def as_celery_conf(django_settings: dict[str, Any]) -> dict[str, Any]:
    """CELERY_FOO_BAR → foo_bar, as `config_from_object(namespace="CELERY")` reads them."""
    return {name.removeprefix("CELERY_").lower(): value for name, value in django_settings.items()}
