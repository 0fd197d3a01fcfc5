"""The event log: every change to business data leaves a row here."""
