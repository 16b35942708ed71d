"""Driving the interview page in headless Chromium (Playwright): shared by the browser tests and the benchmarks."""
