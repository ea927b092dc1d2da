"""`make loadtest`: tenken under gunicorn, under load and faults (docs/performance.md).

Run as `python -m tests.load`. No module here is named test_*.py: pytest does not collect them.
"""
