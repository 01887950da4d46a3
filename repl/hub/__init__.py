"""JupyterHub: from a hub's URL and a token to the user's single-user server, spawned if stopped."""
