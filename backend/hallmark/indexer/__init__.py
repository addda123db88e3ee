"""The only code that turns chain events into rows: the registry's collections and their tokens' history."""
