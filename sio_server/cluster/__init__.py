"""Several processes: session leases, the Redis client manager and its watch."""
