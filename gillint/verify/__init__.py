"""The runtime verifier: runs flagged code in child interpreters and measures GIL contention.

Never imported by `gillint check` or the flake8 plugin.
"""
