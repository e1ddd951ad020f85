"""Speed benchmarks that print JSON (``python -m benchmarks``); never part of the tests."""
