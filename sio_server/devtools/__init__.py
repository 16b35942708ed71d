"""Developer tools shared by the test suite and the benchmarks; the server never imports them.

They live in the package (not in ``tests/`` or ``bench/``) so both can use one
copy, and so ``python -m bench`` works after ``pip install -e .`` alone:
``process`` (a real server process), ``fakes/`` (the vendors' fakes on their real
wire protocols), ``browser/`` (Chromium driving the page; needs the test extra's
Playwright), ``floods`` and ``rawpolling`` (hostile clients). ``bench/`` imports
these, never ``tests/`` (``tests/unit/test_layers.py``).
"""
