"""Work orders (工单, SPEC §3): types with templates of required fields, a state machine, 首问负责
ownership, transfer with background notes, follow-ups, callbacks, reopen, and SLA deadlines in
business hours with escalation of overdue orders (``kefu.workorders.sla``)."""
