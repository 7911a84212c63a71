"""kombu's Redis transport with one fix: a worker survives the broker restarting (issue 13).

The bug (seen with kombu 5.7.0 and Celery 5.7.0; the same failure in `_connparams` on a channel close
is celery/kombu#582, "Error on restarting Gossip", closed without a fix): when the consumer loses
Redis, Celery closes its broken connection (`on_connection_error_after_connected` →
`Connection.close`). Closing the channel restores the messages it had not acknowledged ("Restoring N
unacknowledged message(s)"), which needs a Redis client, built from `channel.connection.client`; by
then the transport has already been detached from its Connection (`client = None`), so `_connparams`
raises AttributeError("'NoneType' object has no attribute 'hostname'"). That is not a connection
error, so Celery treats it as unrecoverable and the worker exits.

The fix: each channel remembers the connection details it was opened with and uses them when its
transport has already forgotten them. The restore then goes ahead (or fails with an ordinary connection
error while Redis is still down, which kombu ignores; the messages stay in the unacked hash and come back
after the visibility timeout). Selected with CELERY_BROKER_TRANSPORT (config/settings.py); proven by
tests/pipeline/test_broker_chaos.py, which kills Redis under load.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._opened_with = self.connection.client

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection
        if transport.client is not None:
            return super()._connparams(asynchronous=asynchronous)
        transport.client = self._opened_with  # only for building the parameters, then forgotten again
        try:
            return super()._connparams(asynchronous=asynchronous)
        finally:
            transport.client = None


class Transport(redis.Transport):
    Channel = Channel
