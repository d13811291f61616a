"""``python -m memory.cli`` runs the ``zettelmem`` command."""

from memory.cli.app import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
