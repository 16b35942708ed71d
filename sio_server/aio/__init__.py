"""Generic async helpers (owned background tasks, token buckets): no interview knowledge."""
