"""Bindery's own stylesheets, fonts and colour profile. Shipped inside the package as
``bindery.styles`` (see pyproject.toml) and found through importlib.resources; a book
overrides any of them by giving a file of the same name in its own ``styles/`` folder."""
