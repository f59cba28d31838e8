"""Import and export: customers and calls (with transcripts) from CSV and Excel, and any list of
rows (calls, work orders, …) out to CSV (UTF-8 with BOM) or .xlsx.

Imports check every row before writing anything; problems come back as ``ImportRejected`` with
one 「第 N 行:字段:原因」 per problem (the header is row 1) and the database is left as it was.
A file is read as a stream with a budget (kefu.dataio.tables): a workbook that would expand
beyond reason or declares too many rows is refused before its rows are parsed. Through the API
and the pages, imports and exports run as background jobs (kefu.dataio.jobs, kefu.jobs): check
(reads only), inspect the calls (CPU only), then one short write transaction.
"""

from kefu.core.spreadsheets import FORMATS, MEDIA_TYPES, export_filename, export_rows
from kefu.dataio.calls import (
    CALL_COLUMNS,
    call_row,
    check_calls,
    export_calls,
    import_calls,
    score_calls,
    transcript_text,
    write_calls,
)
from kefu.dataio.customers import CUSTOMER_COLUMNS, check_customers, export_customers, import_customers, write_customers
from kefu.dataio.tables import Checked, Column, ImportRejected, ImportResult, RowError, read_table

__all__ = [
    "CALL_COLUMNS",
    "CUSTOMER_COLUMNS",
    "FORMATS",
    "MEDIA_TYPES",
    "Checked",
    "Column",
    "ImportRejected",
    "ImportResult",
    "RowError",
    "call_row",
    "check_calls",
    "check_customers",
    "export_calls",
    "export_customers",
    "export_filename",
    "export_rows",
    "import_calls",
    "import_customers",
    "read_table",
    "score_calls",
    "transcript_text",
    "write_calls",
    "write_customers",
]
