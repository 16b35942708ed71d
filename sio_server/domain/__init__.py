"""The interview's vocabulary: the session model, ids, tokens and protocol errors.

The bottom layer: it imports nothing of the server, and every other package
may import it (the layer contract, ``tests/unit/test_layers.py``).
"""
