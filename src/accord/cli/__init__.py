"""The `accord` command: thin commands over the registry, policy and store packages."""
