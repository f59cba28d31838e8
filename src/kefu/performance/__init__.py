"""Performance evaluation (SPEC §7, seed 004 绩效考核体系): KPIs per agent, team and centre, and
the monthly evaluation. ``kpi`` holds the definitions as pure functions over records, usable
without the database (like the inspection engine)."""
