"""Everything that talks to an EVM node: keys, the deployment record, contract handles, the sender."""
