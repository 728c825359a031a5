"""Bindery's own templates. Shipped inside the package as ``bindery.templates`` (see
pyproject.toml) and found through importlib.resources; a book overrides any of them by
giving a file of the same name in its own ``templates/`` folder."""
