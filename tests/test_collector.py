"""``skillforge.collector.paused``: the cyclic collector off for a block, its state restored after."""

from __future__ import annotations

import gc

import pytest

from skillforge.collector import paused


def test_collector_paused_restores_its_state_also_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with paused():
            assert not gc.isenabled()
            with paused():  # nested: still off when the inner block ends
                pass
            assert not gc.isenabled()
            raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
