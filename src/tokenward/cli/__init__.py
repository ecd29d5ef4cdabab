"""The `tokenward` command line: thin commands over the services of a Container."""
