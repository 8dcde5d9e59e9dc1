"""Harbour: an information system for harm reduction programmes."""
