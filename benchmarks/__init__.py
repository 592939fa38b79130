"""Benchmarks for soundtrack: a public corpus, degraded clip sets and runners.

Run from the repository root, e.g.::

    PYTHONPATH=src python -m benchmarks.identify_bench --quick
"""
