"""Knowledge base (SPEC §6): articles with versions, "what changed", situation scripts, Chinese search."""
