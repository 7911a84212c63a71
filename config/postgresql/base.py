"""Django's PostgreSQL backend with a connection health check that needs no round trip to the server.

With persistent connections (CONN_MAX_AGE) and CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first
query of every request. On a USSD dialogue that was four statements in fourteen, each a round trip the
worker waits for and a statement Postgres parses and runs (docs/BENCHMARKS.md, USSD).

A connection the server has dropped (a restart, an idle timeout, pg_terminate_backend) has something to read
on its socket: the server's parting error message, then end-of-file. An idle, healthy connection has
nothing: Postgres only speaks when asked. So an idle connection is checked by polling its socket without
waiting. A connection in any other state (in a transaction, or in doubt) gets Django's own `SELECT 1`. A
false alarm (a notice the server sent unasked) costs one reconnection, never a failed request.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            pgconn = connection.pgconn
            if pgconn.transaction_status != pq.TransactionStatus.IDLE:
                return super().is_usable()
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except Exception:
            return False
        return not readable
