"""Read models that join several domains, above them: a customer's contact history (calls and
work orders in one list), the agent's workbench. They read through the domains' own queries and
presenters and write nothing."""
