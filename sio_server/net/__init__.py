"""Facts about the network peer that both edges (Socket.IO and HTTP) need: the client's address."""
