"""Checklist definitions as data: the file format, its readers and writers, and the validator.

Framework-free on purpose: the Flask application and the CLI call into it with plain files and
get plain data classes back, so the format can be tested without an app.
"""

from checklists.loader import ChecklistFileError, load_file, load_files
from checklists.schema import Checklist

__all__ = ["Checklist", "ChecklistFileError", "load_file", "load_files"]
