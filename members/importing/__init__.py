"""Bringing the old spreadsheets in: read → map columns → plan each row → apply or undo.

reading.py   turns an uploaded CSV or XLSX into header + rows, whatever its encoding
columns.py   matches headers to fields and lets the person correct the mapping
values.py    normalises messy cell values (dates, sectors, joining-story kinds, status)
planning.py  decides per row: create, update (which fields), skip as duplicate, reject
applying.py  writes a confirmed plan in one transaction, records it, and undoes it
"""
