"""通话助手 (SPEC §10): what an agent needs while a call runs."""
