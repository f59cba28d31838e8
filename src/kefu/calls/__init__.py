"""Calls (SPEC §5): call records with direction, times, who hung up, 来电原因, summary and transcript."""
