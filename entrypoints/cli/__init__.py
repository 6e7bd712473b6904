"""The ``kholuu`` command line: one click group (``main``), one module per command group."""
