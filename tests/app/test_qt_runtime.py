"""The installed PySide6 must not corrupt reference counts when signals are emitted.

PySide6 6.12.0 under Python 3.11 decrements True's reference count on every
``Signal.emit`` (the value it returns): a studio session emits thousands of signals and
then aborts with "Fatal Python error: deallocating True". pyproject.toml excludes it;
this test catches a version that brings the bug back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    number = Signal(int)
    anything = Signal(int, object, object)


def test_emit_keeps_reference_counts(qapp) -> None:
    emitter = _Emitter()
    received: list[int] = []
    emitter.number.connect(received.append)
    emitter.anything.connect(lambda i, a, b: received.append(i))
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(50):
        emitter.number.emit(i)
        emitter.anything.emit(i, None, [i])
    assert len(received) == 100
    # Either may gain a reference held elsewhere; the bug loses one per emission.
    assert sys.getrefcount(True) >= true_before
    assert sys.getrefcount(None) >= none_before
