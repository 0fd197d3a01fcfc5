"""Enterprises, their sites and their MEE facility codes."""
