"""RFC 6962 hashing, compact ranges and proofs: the RFC's and transparency-dev's vectors,
and properties over any list of leaves (transparency-dev/merkle's corrupted-proof cases);
the pieces the database proofs and the sequencer build on (perfect subtrees, node sinks)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecenter.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    _subtree_root,
    consistency_proof,
    consistency_ranges,
    fold_right,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    perfect_pieces,
    perfect_root,
    root_from_leaf_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# The eight leaves of transparency-dev/merkle's proof tests and the root of
# every prefix of them (sizes 1 to 8).
LEAVES = [
    h(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    h(x)
    for x in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# (0-based leaf index, tree size, proof)
INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
# (old size, new size, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def two_byte_leaves(n: int) -> list[bytes]:
    """The leaves of transparency-dev's compact-range golden roots: i as 2 bytes, LSB first."""
    return [bytes([i & 0xFF, (i >> 8) & 0xFF]) for i in range(n)]


def test_hashes_match_rfc6962_vectors():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_empty_tree_root_is_sha256_of_nothing_not_an_empty_leaf():
    assert root_hash([]) == EMPTY_ROOT
    assert root_hash([b""]) != EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_root_of_every_prefix_of_the_eight_leaf_vector(size):
    assert root_hash(LEAVES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize(
    ("size", "root_b64"),
    [
        (10, "VjWMPSYNtCuCNlF/RLnQy6HcwSk6CIipfxm+hettA+4="),
        (100, "dUh9hYH88p0CMoHkdr1wC2szbhcLAXOejWpINIooKUY="),
        (255, "SmdsuKUqiod3RX2jyF2M6JnbdE4QuTwwipfAowI4/i0="),
        (256, "qFI0t/tZ1MdOYgyPpPzHFiZVw86koScXy9q3FU5casA="),
        (1000, "RXrgb8xHd55Y48FbfotJwCbV82Kx22LZfEbmBGAvwlQ="),
        (4095, "cWRFdQhPcjn9WyBXE/r1f04ejxIm5lvg40DEpRBVS0w="),
    ],
)
def test_compact_range_and_recursive_root_match_golden_roots_of_larger_trees(size, root_b64):
    leaves = two_byte_leaves(size)
    tree = CompactRange()
    for data in leaves:
        tree.append(leaf_hash(data))
    assert tree.root() == base64.b64decode(root_b64)
    assert root_hash(leaves) == base64.b64decode(root_b64)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proof_vectors_are_generated_and_verified(index, size, proof):
    hashes = [leaf_hash(data) for data in LEAVES[:size]]
    assert inclusion_proof(index, hashes) == proof
    assert verify_inclusion(hashes[index], index, size, proof, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proof_vectors_are_generated_and_verified(old, new, proof):
    hashes = [leaf_hash(data) for data in LEAVES[:new]]
    assert consistency_proof(old, hashes) == proof
    assert verify_consistency(old, new, proof, ROOTS[old - 1], ROOTS[new - 1])


def test_inclusion_in_a_single_leaf_tree_needs_the_exact_leaf_and_root():
    leaf = leaf_hash(b"data")
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], leaf)
    for index, size in [(0, 0), (1, 0), (2, 1), (1, 1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)


def test_trivial_consistency_cases():
    r1, r2 = SOME_HASH, EMPTY_ROOT
    assert verify_consistency(0, 0, [], r1, r1)
    assert verify_consistency(0, 1, [], r1, r2)
    assert verify_consistency(1, 1, [], r2, r2)
    assert not verify_consistency(1, 1, [], r1, r2)  # same size, different roots
    assert not verify_consistency(1, 0, [], r1, r2)  # time travel
    assert not verify_consistency(1, 2, [], r1, r2)  # an empty proof for a real step
    assert not verify_consistency(0, 0, [r2], r2, r2)  # equal trees need no proof


def test_compact_range_refuses_a_frontier_that_does_not_fit_its_size():
    with pytest.raises(ValueError):
        CompactRange(3, [SOME_HASH])  # 3 leaves = two perfect subtrees
    with pytest.raises(ValueError):
        CompactRange(1, [b"short"])
    with pytest.raises(ValueError):
        CompactRange().append(b"not a hash")


# --- properties -----------------------------------------------------------

leaf_lists = st.lists(st.binary(max_size=8), unique=True, min_size=1, max_size=70)


@given(st.lists(st.binary(max_size=16), max_size=70))
def test_compact_range_root_equals_root_hash_after_every_append(leaves):
    tree = CompactRange()
    assert tree.root() == root_hash([])
    for i, data in enumerate(leaves):
        tree.append(leaf_hash(data))
        assert tree.size == i + 1
        assert tree.root() == root_hash(leaves[: i + 1])
        assert len(tree.hashes) == tree.size.bit_count()


@given(st.lists(st.binary(max_size=8), max_size=40), st.lists(st.binary(max_size=8), max_size=40))
def test_compact_range_resumes_from_its_hex_form(first, then):
    tree = CompactRange()
    for data in first:
        tree.append(leaf_hash(data))
    resumed = CompactRange.from_hex(tree.size, tree.to_hex())
    assert resumed == tree
    for data in then:
        resumed.append(leaf_hash(data))
    assert resumed.root() == root_hash(first + then)


@given(leaf_lists, st.data())
def test_every_inclusion_proof_verifies_and_no_corruption_of_it_does(leaves, data):
    hashes = [leaf_hash(x) for x in leaves]
    size, root = len(hashes), root_from_leaf_hashes(hashes)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(index, hashes)
    leaf = hashes[index]
    assert verify_inclusion(leaf, index, size, proof, root)

    # every other index, and indexes beyond the tree
    for other in {*range(size), index ^ 2, size, size + 1} - {index}:
        assert not verify_inclusion(leaf, other, size, proof, root)
    # wrong tree sizes, as transparency-dev probes them (other sizes with their own
    # roots: the next test; a neighbouring size can share the path *and* this root)
    for other_size in {size * 2, size // 2} - {size}:
        assert not verify_inclusion(leaf, index, other_size, proof, root)
    # wrong leaf, wrong root
    assert not verify_inclusion(leaf_hash(b"WrongLeaf"), index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, EMPTY_ROOT)
    assert not verify_inclusion(leaf, index, size, proof, SOME_HASH)
    # garbage before or after, a removed or an inserted component
    for bad in (
        [*proof, b""],
        [*proof, root],
        [b"", *proof],
        [root, *proof],
        proof[:-1] if proof else [SOME_HASH],
        [proof[0], SOME_HASH, *proof[1:]] if proof else [SOME_HASH, SOME_HASH],
    ):
        assert not verify_inclusion(leaf, index, size, bad, root)
    # any single flipped bit in any proof hash
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="element")
        byte = data.draw(st.integers(0, 31), label="byte")
        bit = data.draw(st.integers(0, 7), label="bit")
        corrupted = [bytearray(x) for x in proof]
        corrupted[i][byte] ^= 1 << bit
        assert not verify_inclusion(leaf, index, size, [bytes(x) for x in corrupted], root)


@given(leaf_lists, st.data())
def test_a_proof_for_one_size_fails_against_the_true_root_of_any_other(leaves, data):
    extra = data.draw(st.lists(st.binary(min_size=9, max_size=12), unique=True, max_size=40))
    hashes = [leaf_hash(x) for x in leaves + extra]
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, hashes[:size])
    for other_size in range(index + 1, len(hashes) + 1):
        verified = verify_inclusion(
            hashes[index], index, other_size, proof, root_from_leaf_hashes(hashes[:other_size])
        )
        assert verified == (other_size == size)


@given(leaf_lists, st.data())
def test_every_consistency_proof_verifies_and_no_corruption_of_it_does(leaves, data):
    hashes = [leaf_hash(x) for x in leaves]
    new = len(hashes)
    old = data.draw(st.integers(1, new), label="old size")
    proof = consistency_proof(old, hashes)
    old_root, new_root = root_from_leaf_hashes(hashes[:old]), root_from_leaf_hashes(hashes)
    assert verify_consistency(old, new, proof, old_root, new_root)
    if not proof:
        return  # old == new: nothing to corrupt
    bad_cases = [
        (old - 1, new, proof, old_root, new_root),
        (old + 1, new, proof, old_root, new_root),
        (old ^ 2, new, proof, old_root, new_root),
        (old, new * 2, proof, old_root, new_root),
        (old, new // 2, proof, old_root, new_root),
        (old, new, proof, SOME_HASH, new_root),
        (old, new, proof, old_root, SOME_HASH),
        (old, new, proof, new_root, old_root),
        (old, new, [], old_root, new_root),
        (old, new, [*proof, b""], old_root, new_root),
        (old, new, [*proof, old_root], old_root, new_root),
        (old, new, [*proof, new_root], old_root, new_root),
        (old, new, [b"", *proof], old_root, new_root),
        (old, new, [old_root, *proof], old_root, new_root),
        (old, new, [new_root, *proof], old_root, new_root),
        (old, new, [proof[0], *proof], old_root, new_root),
        (old, new, proof[:-1], old_root, new_root),
    ]
    for case in bad_cases:
        assert not verify_consistency(*case), case
    i = data.draw(st.integers(0, len(proof) - 1), label="element")
    byte = data.draw(st.integers(0, 31), label="byte")
    corrupted = [bytearray(x) for x in proof]
    corrupted[i][byte] ^= 16
    assert not verify_consistency(old, new, [bytes(x) for x in corrupted], old_root, new_root)


# --- perfect subtrees: what the sequencer stores and the database proofs read ---------------


def hashes_of(count: int) -> list[bytes]:
    return [leaf_hash(data) for data in two_byte_leaves(count)]


def test_perfect_root_is_the_root_of_a_power_of_two_of_leaves_only():
    hashes = hashes_of(8)
    for width in (1, 2, 4, 8):
        assert perfect_root(hashes[:width]) == root_from_leaf_hashes(hashes[:width])
    for width in (0, 3, 5, 6, 7):
        with pytest.raises(ValueError, match="power of two"):
            perfect_root(hashes[:width])


def test_perfect_pieces_cut_a_range_into_aligned_subtrees_largest_first():
    assert perfect_pieces(0, 600) == [(9, 0), (6, 8), (4, 36), (3, 74)]
    assert perfect_pieces(256, 300) == [(5, 8), (3, 36), (2, 74)]
    assert perfect_pieces(512, 513) == [(0, 512)]
    assert perfect_pieces(5, 5) == []


def test_fold_right_of_one_root_is_that_root():
    assert fold_right([SOME_HASH]) == SOME_HASH
    assert fold_right([EMPTY_ROOT, SOME_HASH]) == node_hash(EMPTY_ROOT, SOME_HASH)


def test_append_subtree_refuses_a_subtree_that_is_not_aligned():
    tree = CompactRange()
    tree.append(SOME_HASH)
    with pytest.raises(ValueError, match="cannot start at leaf 1"):
        tree.append_subtree(1, SOME_HASH)


@given(st.integers(1, 300), st.data())
def test_appending_perfect_subtrees_equals_appending_their_leaves_one_by_one(count, data):
    hashes = hashes_of(count)
    one_by_one, by_leaf = CompactRange(), {}
    for value in hashes:
        one_by_one.append(value, lambda lv, ix, h: by_leaf.setdefault((lv, ix), h))
    in_blocks, by_block = CompactRange(), {}
    while in_blocks.size < count:
        size = in_blocks.size
        fits = [lv for lv in range(9) if size % (1 << lv) == 0 and size + (1 << lv) <= count]
        level = data.draw(st.sampled_from(fits), label="level")
        block = hashes[size : size + (1 << level)]
        in_blocks.append_subtree(
            level, perfect_root(block), lambda lv, ix, h: by_block.setdefault((lv, ix), h)
        )
        assert in_blocks.root() == root_from_leaf_hashes(hashes[: in_blocks.size])
    assert in_blocks == one_by_one
    # the nodes completed by merging blocks are the same nodes, with the same hashes
    assert by_block.items() <= by_leaf.items()


@given(st.integers(1, 520))
def test_the_node_sink_is_told_of_exactly_every_perfect_subtree_once(count):
    hashes = hashes_of(count)
    told: list[tuple[int, int, bytes]] = []
    tree = CompactRange()
    for value in hashes:
        tree.append(value, lambda lv, ix, h: told.append((lv, ix, h)))
    expected = {
        (level, index) for level in range(1, count.bit_length()) for index in range(count >> level)
    }
    assert len(told) == len(expected)
    assert {(level, index) for level, index, _ in told} == expected
    for level, index, value in told:
        assert value == perfect_root(hashes[index << level : (index + 1) << level])


@given(st.integers(1, 600), st.data())
def test_proof_ranges_cut_into_perfect_pieces_fold_to_the_ranges_roots(count, data):
    hashes = hashes_of(count)
    index = data.draw(st.integers(0, count - 1), label="index")
    old = data.draw(st.integers(0, count), label="old size")
    for ranges, proof in (
        (inclusion_ranges(index, count), inclusion_proof(index, hashes)),
        (consistency_ranges(old, count), consistency_proof(old, hashes)),
    ):
        roots = []
        for lo, hi in ranges:
            pieces = perfect_pieces(lo, hi)
            covered = [(i << lv, (i + 1) << lv) for lv, i in pieces]
            assert covered[0][0] == lo and covered[-1][1] == hi
            assert all(a[1] == b[0] for a, b in zip(covered, covered[1:], strict=False))
            assert [lv for lv, _ in pieces] == sorted((lv for lv, _ in pieces), reverse=True)
            root = fold_right([perfect_root(hashes[a:b]) for a, b in covered])
            assert root == _subtree_root(hashes, lo, hi)
            roots.append(root)
        assert roots == proof
