"""Who may do what: staff accounts and their sessions, partner API keys, roles and permissions, maker-checker
approvals and the hash-chained audit trail."""
