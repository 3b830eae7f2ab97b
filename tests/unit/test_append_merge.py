"""The ``append`` merge: the server's text, then only what the device added to its base."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.sync.merge import append_text

lines = st.lists(st.text(alphabet="abc xyz", min_size=1, max_size=6), max_size=5)


def test_append_merge_does_not_duplicate_the_shared_text() -> None:
    merged = append_text("met buyer\nsample sent", "met buyer\ncalled back")
    assert merged == "met buyer\nsample sent\ncalled back"


def test_a_device_that_added_nothing_keeps_the_server_text() -> None:
    assert append_text("a\nb\nc", "a\nb") == "a\nb\nc"
    assert append_text("", "mine") == "mine"


@given(base=lines, server=lines, device=lines)
def test_append_merge_is_base_then_both_additions(
    base: list[str], server: list[str], device: list[str]
) -> None:
    if server and device and server[0] == device[0]:
        device = ["!" + device[0], *device[1:]]  # two different first additions
    theirs = "\n".join(base + server)
    yours = "\n".join(base + device)
    merged = append_text(theirs, yours)
    if not theirs:
        assert merged == yours
    elif not device:
        assert merged == theirs
    else:
        lines = merged.split("\n")
        assert lines[: len(base + server)] == base + server  # nothing the server holds is lost
        assert lines[-len(device) :] == device  # what the device added comes last, in order
        if not set(device) & set(base + server):  # nothing to fold: exactly both additions
            assert lines == base + server + device


def test_lines_the_server_already_ends_with_are_not_repeated() -> None:
    # the device's first addition was merged by an earlier push it had not seen the answer of
    assert append_text("a\nS\nD1", "a\nD1\nD2") == "a\nS\nD1\nD2"
