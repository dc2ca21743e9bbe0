"""What other apps do when a package is accepted: hooks they register in their
``AppConfig.ready``, which ``exchange.services.accept`` runs.

Apart from the services so that registering a hook at start-up does not import
them, and the dossiers, the signing keys and cryptography with them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from casecenter.accounts.models import User
    from casecenter.exchange.models import Matter, Package

#: what other apps do when a package is accepted, in the same transaction:
#: ``hook(actor, package, matter_or_None)`` (the fast track reaches its stages)
ON_ACCEPT: list[Callable[[User, Package, Matter | None], None]] = []
