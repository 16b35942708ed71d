"""Developer tools shared by the test suite and the benchmarks; the server never imports them.

They live in the package (not in ``tests/`` or ``bench/``) so both can use one
copy without importing pytest, and so ``python -m bench`` works after
``pip install -e .`` alone. Standard library only.
"""
