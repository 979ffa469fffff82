"""``python -m outage_signals`` runs the CLI."""

from outage_signals.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
