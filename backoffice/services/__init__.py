"""Staff use cases: each checks the actor's permission first and writes an audit event."""
