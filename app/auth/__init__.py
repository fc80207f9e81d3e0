"""Bearer tokens with a role and an area scope, and the dependencies that load the caller."""
