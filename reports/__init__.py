"""Results of campaigns as tables: SQL does the counting, pandas shapes the counts.

Framework-free: functions take a SQLAlchemy connection and plain values, and return DataFrames,
so the CLI, the web pages and the Excel export all read the same figures.
"""
