"""Staff accounts: workspaces, users, memberships, login and access tokens."""
