"""Secrets at rest and the keys kept outside the database: owner-only data files (`files`), stored responses
sealed with a key of their own (`sealing`), and the customer assertions a bank's systems sign (`assertions`)."""
