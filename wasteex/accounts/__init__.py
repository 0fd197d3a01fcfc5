"""Users, memberships in enterprises, sessions and API tokens."""
