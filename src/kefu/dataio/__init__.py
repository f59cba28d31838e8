"""Import and export: customers and calls (with transcripts) from CSV and Excel, and any list of
rows (calls, work orders, …) out to CSV (UTF-8 with BOM) or .xlsx.

Imports check every row before writing anything; problems come back as ``ImportRejected`` with
one 「第 N 行:字段:原因」 per problem (the header is row 1) and the database is left as it was.
"""

from kefu.dataio.calls import CALL_COLUMNS, call_row, export_calls, import_calls, transcript_text
from kefu.dataio.customers import CUSTOMER_COLUMNS, export_customers, import_customers
from kefu.dataio.tables import (
    FORMATS,
    MEDIA_TYPES,
    Column,
    ImportRejected,
    ImportResult,
    RowError,
    export_filename,
    export_rows,
    read_table,
)

__all__ = [
    "CALL_COLUMNS",
    "CUSTOMER_COLUMNS",
    "FORMATS",
    "MEDIA_TYPES",
    "Column",
    "ImportRejected",
    "ImportResult",
    "RowError",
    "call_row",
    "export_calls",
    "export_customers",
    "export_filename",
    "export_rows",
    "import_calls",
    "import_customers",
    "read_table",
    "transcript_text",
]
