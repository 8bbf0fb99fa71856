"""Typed records of the plain data that crosses gradstep's seams."""
