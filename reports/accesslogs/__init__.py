"""Access-log review (ログ点検), framework-free: reading a system's access-log export, the
sampling rules, and drawing a review round's sample in SQL.

Like `checklists/` and `reports/`, nothing here imports Flask: the app (survey.services.logs),
the command line and `make bench` call the same functions on a SQLAlchemy connection. Tables
are named with `sa.table()` (reports.accesslogs.tables), as reports/queries.py does.

- hours.py     office hours, weekends, Japanese holidays and closed days, as SQL conditions
               (the audit trail's review uses the same)
- messages.py  every problem about a log file, a column mapping or a rule file, in Japanese
               and English
- mapping.py   how a system writes its export: which column holds the time, the user id, …
- reader.py    the rows of a CSV (UTF-8, BOM, cp932) or .xlsx file, streamed
- importer.py  parse, check and resolve every row, batched INSERTs; problems by row and column
- rules.py     the sampling rule file (YAML): read and checked, every problem by key
- sampler.py   a round's sample: N at random per unit (seeded) plus every entry a rule matches
- review.py    the heads' review: masked record numbers, the figures per unit and rule, their
               Excel summary and CSV
- tables.py    the tables read and written, by name (survey/models/logs.py declares them)
"""
