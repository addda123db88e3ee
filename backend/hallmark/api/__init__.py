"""HTTP blueprints: they validate, authorise and call services; they never touch the chain themselves."""
