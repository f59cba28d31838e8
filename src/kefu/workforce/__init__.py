"""Workforce (SPEC §8): staffing by Erlang C and Erlang A; forecast, rosters and leave follow."""
