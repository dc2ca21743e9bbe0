"""RFC 6962 Merkle tree hashing, compact ranges and proofs, in pure Python.

The audit log commits to its entries with the Merkle Tree Hash of RFC 6962
§2.1 (the tree Certificate Transparency, Go's checksum database and every
C2SP transparency log use), so that a tree head we sign can be checked by any
standard tool, and so that a single entry or the log's growth can be proven
with O(log n) hashes instead of the whole log.

* A leaf is hashed as ``SHA-256(0x00 ‖ data)`` and an inner node as
  ``SHA-256(0x01 ‖ left ‖ right)``: the prefixes keep a leaf from ever being
  passed off as a node (second-preimage resistance).
* The tree over n leaves splits at the largest power of two *strictly smaller*
  than n, so the tree is left-full and its shape depends only on n; the tree of
  zero leaves hashes to SHA-256 of the empty string.
* A :class:`CompactRange` keeps only the roots of the perfect subtrees that
  make up the tree (one per set bit of its size), which is all an append needs.
* Proofs are lists of 32-byte hashes, ordered bottom-up as RFC 6962 §2.1.1 and
  §2.1.2 build them; they are verified with the algorithms of RFC 9162 §2.1.3.2
  and §2.1.4.2, which check a proof in one pass without rebuilding any tree.

No Django here: the module is tested in isolation against the RFC's and
transparency-dev/merkle's test vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "consistency_proof",
    "consistency_ranges",
    "fold_right",
    "inclusion_ranges",
    "perfect_pieces",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "perfect_root",
    "root_from_leaf_hashes",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
#: The root of the tree with no leaves: SHA-256 of the empty string (RFC 6962 §2.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: ``SHA-256(0x00 ‖ data)``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: ``SHA-256(0x01 ‖ left ‖ right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (for ``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH of the leaves ``[lo, hi)`` (non-empty), given their leaf hashes."""
    if hi - lo == 1:
        return hashes[lo]
    mid = lo + _split(hi - lo)
    return node_hash(_subtree_root(hashes, lo, mid), _subtree_root(hashes, mid, hi))


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of leaves given by their (already computed) leaf hashes."""
    if not hashes:
        return EMPTY_ROOT
    return _subtree_root(hashes, 0, len(hashes))


def root_hash(leaves: list[bytes]) -> bytes:
    """The Merkle Tree Hash (RFC 6962 §2.1) of the raw leaf data ``leaves``.

    This is the definition, computed by the RFC's recursion; the audit log
    itself grows its root with a :class:`CompactRange`, which must agree.
    """
    return root_from_leaf_hashes([leaf_hash(data) for data in leaves])


#: ``on_node(level, index, hash)``: told of each inner node an append completes.
NodeSink = Callable[[int, int, bytes], None]


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a perfect subtree from its 2**k leaf (or node) hashes, level by level."""
    level = list(hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError(f"a perfect subtree has a power of two of leaves, not {len(level)}")
    sha256 = hashlib.sha256
    while len(level) > 1:
        pairs = iter(level)
        level = [
            sha256(_NODE_PREFIX + left + right).digest()
            for left, right in zip(pairs, pairs, strict=False)
        ]
    return level[0]


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")


class CompactRange:
    """The frontier of a tree that grows from leaf 0: O(log n) state for appends.

    A tree of ``size`` leaves is the sequence of perfect subtrees given by the
    set bits of ``size``, largest (leftmost) first; the range keeps only their
    root hashes. Appending a leaf merges it with the trailing subtrees of equal
    height (one merge per trailing one bit of the old size, amortised O(1));
    the root folds the subtrees from the right, which is exactly where RFC 6962
    splits. This is the "compact range" of transparency-dev/merkle, restricted
    to ranges that start at 0 — all the audit log needs to append.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        hash_list = list(hashes)
        if size < 0:
            raise ValueError("a tree size cannot be negative")
        if len(hash_list) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {size.bit_count()} frontier hashes, "
                f"not {len(hash_list)}"
            )
        for value in hash_list:
            _check_hash(value, "a frontier hash")
        self._size = size
        self._hashes = hash_list

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The perfect subtrees' roots, leftmost (largest) first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes, on_node: NodeSink | None = None) -> None:
        """Append one leaf, given by its leaf hash (not its raw data).

        ``on_node(level, index, hash)`` is told of every inner node the append
        completes (the perfect subtree of height ``level`` number ``index``).
        """
        _check_hash(leaf_hash, "a leaf hash")
        self.append_subtree(0, leaf_hash, on_node)

    def append_subtree(self, level: int, root: bytes, on_node: NodeSink | None = None) -> None:
        """Append a whole perfect subtree of height ``level`` given by its root.

        The tree's size must be a multiple of ``2**level`` (the subtree is
        aligned). Merges it with the trailing subtrees of the same height, as
        appending its leaves one by one would.
        """
        width = 1 << level
        if self._size % width:
            raise ValueError(f"a subtree of height {level} cannot start at leaf {self._size}")
        start, node = self._size, root
        while start & (1 << level):
            start -= 1 << level
            node = node_hash(self._hashes.pop(), node)
            level += 1
            if on_node is not None:
                on_node(level, start >> level, node)
        self._hashes.append(node)
        self._size += width

    def root(self) -> bytes:
        """The Merkle Tree Hash of all leaves appended so far."""
        if not self._hashes:
            return EMPTY_ROOT
        node = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            node = node_hash(left, node)
        return node

    def copy(self) -> CompactRange:
        return CompactRange(self._size, self._hashes)

    def to_hex(self) -> list[str]:
        """The frontier as hex strings (the size is kept beside it, not in it)."""
        return [value.hex() for value in self._hashes]

    @classmethod
    def from_hex(cls, size: int, hexes: Sequence[str]) -> CompactRange:
        """Rebuild a range from its size and :meth:`to_hex` output; checks the shape."""
        return cls(size, (bytes.fromhex(value) for value in hexes))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __hash__(self) -> int:
        return hash((self._size, tuple(self._hashes)))

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges ``[lo, hi)`` whose roots make up leaf ``index``'s audit path, bottom-up."""
    if not 0 <= index < size:
        raise IndexError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path (RFC 6962 §2.1.1) of leaf ``index`` in the tree of ``leaf_hashes``.

    The siblings of the path from the leaf to the root, bottom-up; O(n) hashing.
    """
    return [
        _subtree_root(leaf_hashes, lo, hi) for lo, hi in inclusion_ranges(index, len(leaf_hashes))
    ]


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf ``leaf_hash`` at ``index`` in the tree ``(size, root)``.

    RFC 9162 §2.1.3.2: walk up from the leaf, taking each proof hash as a left
    or right sibling according to the bits of ``index`` and the tree's right
    border; the proof must be used up exactly when the root is reached.
    """
    if not 0 <= index < size:
        return False
    if len(leaf_hash) != HASH_SIZE or len(root) != HASH_SIZE:
        return False
    if any(len(sibling) != HASH_SIZE for sibling in proof):
        return False
    fn, sn, node = index, size - 1, leaf_hash
    for sibling in proof:
        if sn == 0:
            return False  # the proof is longer than the path
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:  # skip levels where we are the lone right node
                fn >>= 1
                sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root


def consistency_ranges(old_size: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose roots make up the proof that ``old_size`` is a prefix of ``size``."""
    if not 0 <= old_size <= size:
        raise ValueError(f"cannot prove a tree of {old_size} leaves is a prefix of {size}")
    if old_size in (0, size):
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, m = 0, size, old_size
    old_is_whole_subtree = True  # the old tree is a subtree of this one (SUBPROOF's b)
    while m != hi - lo:
        mid = lo + _split(hi - lo)
        if m <= mid - lo:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            m -= mid - lo
            lo = mid
            old_is_whole_subtree = False
    if not old_is_whole_subtree:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The proof (RFC 6962 §2.1.2) that the first ``old_size`` leaves are a prefix of the tree.

    Empty when ``old_size`` is 0 or the whole tree; O(n) hashing.
    """
    return [
        _subtree_root(leaf_hashes, lo, hi)
        for lo, hi in consistency_ranges(old_size, len(leaf_hashes))
    ]


def perfect_pieces(lo: int, hi: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` as aligned perfect subtrees ``(level, index)``, left to right.

    Every range a proof names starts at a multiple of a power of two at least
    as large as itself, so its pieces shrink from left to right and its root is
    their right fold, as a compact range's is.
    """
    pieces: list[tuple[int, int]] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo % (1 << level):
            level -= 1
        pieces.append((level, lo >> level))
        lo += 1 << level
    return pieces


def fold_right(roots: Sequence[bytes]) -> bytes:
    """The root of adjacent subtrees that shrink from left to right."""
    node = roots[-1]
    for left in reversed(roots[:-1]):
        node = node_hash(left, node)
    return node


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    """Whether ``proof`` shows the tree ``(old_size, old_root)`` begins ``(new_size, new_root)``.

    RFC 9162 §2.1.4.2: one walk up the new tree's path to leaf ``old_size - 1``
    rebuilds both roots at once from the same proof hashes.
    """
    if not 0 <= old_size <= new_size:
        return False
    if len(old_root) != HASH_SIZE or len(new_root) != HASH_SIZE:
        return False
    if any(len(node) != HASH_SIZE for node in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # every tree extends the empty one
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a perfect subtree: its root starts
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_node = new_node = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_node = node_hash(node, old_node)
            new_node = node_hash(node, new_node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_node = node_hash(new_node, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and old_node == old_root and new_node == new_root
