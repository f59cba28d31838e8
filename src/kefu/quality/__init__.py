"""Quality inspection inside the platform (SPEC §2 "Workflow")."""
