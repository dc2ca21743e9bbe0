"""``casecenter``: the one command line — Django's management commands plus ours.

Our own commands (``demo``, ``law``, ``audit``, ``bench`` …) are management
commands of the apps, so ``casecenter help`` lists them all in one place.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casecenter.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["casecenter", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
