"""Socket.IO transport: the namespace, the server class, payload models, rate limits."""
