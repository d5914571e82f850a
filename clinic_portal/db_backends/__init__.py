from django.db import InterfaceError, InternalError, OperationalError

# What a database that is gone, hung (a server-side timeout ended the session) or read-only (after a
# failover) raises: an outage to wait out, not a bug.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, InternalError)
