"""The ``ansar`` command line (``ansar.command.main:main``)."""
