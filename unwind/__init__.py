"""Unwind: Python toolchain (deploy, keeper, scenarios, risk tools)."""
