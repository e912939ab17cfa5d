"""Deep graphs and memory: no recursion, no reset call, no reference cycles."""
import gc
import math

import pytest

import fastgrad
from fastgrad import Value, current_tape


def rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096
    except OSError:                          # not Linux
        psutil = pytest.importorskip("psutil")
        return psutil.Process().memory_info().rss


def chain_gradients(x0, a, b, repeats):
    """d x_n / d(a, b) for x_{k+1} = tanh(a x_k + b), in plain floats (forward mode)."""
    x, dxa, dxb = x0, 0.0, 0.0
    for _ in range(repeats):
        t = math.tanh(a * x + b)
        s = 1 - t * t
        dxa, dxb = s * (x + a * dxa), s * (1 + a * dxb)
        x = t
    return x, dxa, dxb


def run_chain(nodes):
    a, b = Value(0.9), Value(0.05)
    x = Value(0.3)
    for _ in range(nodes // 3):
        x = (x * a + b).tanh()
    x.backward()
    return x, a, b


def test_million_node_chain_builds_differentiates_and_is_freed():
    tape = current_tape()
    tape.compact()                  # earlier tests' dead rows (kept by guard rows) go
    before = len(tape)
    x, a, b = run_chain(10 ** 6)
    assert len(tape) >= before + 10 ** 6
    value, da, db = chain_gradients(0.3, 0.9, 0.05, 10 ** 6 // 3)
    assert math.isclose(x.data, value, rel_tol=1e-12)
    assert math.isclose(a.grad, da, rel_tol=1e-9)
    assert math.isclose(b.grad, db, rel_tol=1e-9)
    del x, a, b
    assert len(tape) == before                # every row given back
    assert tape.capacity <= 2 ** 17            # and the arrays shrunk


@pytest.mark.slow
def test_ten_million_node_chain():
    tape = current_tape()
    before = len(tape)
    x, a, b = run_chain(10 ** 7)
    assert math.isfinite(a.grad) and math.isfinite(b.grad) and a.grad != 0.0
    del x, a, b
    assert len(tape) == before


def test_reference_engine_million_node_chain():
    from fastgrad.reference import Value as RefValue
    a, b = RefValue(0.9), RefValue(0.05)
    x = RefValue(0.3)
    for _ in range(10 ** 6 // 3):
        x = (x * a + b).tanh()
    x.backward()
    _, da, db = chain_gradients(0.3, 0.9, 0.05, 10 ** 6 // 3)
    assert math.isclose(a.grad, da, rel_tol=1e-9) and math.isclose(b.grad, db, rel_tol=1e-9)
    del x                                     # frees without recursion


def micrograd_style_steps(params, xs, steps):
    """Persistent parameters, a new graph every step, no reset: only backward and update."""
    for _ in range(steps):
        loss = 0.0
        for x in xs:
            h = [(p * x + q).tanh() for p, q in zip(params[0::2], params[1::2])]
            out = sum(h[1:], h[0])
            loss = loss + (out - 0.5) ** 2
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= 0.01 * p.grad
    return loss


def test_training_loop_runs_in_flat_memory():
    tape = current_tape()
    params = [Value(0.1 * i - 0.5) for i in range(16)]
    xs = [0.1 * i for i in range(10)]
    micrograd_style_steps(params, xs, 50)          # warm up: the tape reaches its size
    nbytes, rss = tape.nbytes, rss_bytes()
    loss = micrograd_style_steps(params, xs, 3000)
    assert tape.nbytes == nbytes                   # the node arrays did not grow
    tape.compact()
    assert len(tape) < 2 * 16 * 10 * 5             # about one step's graph is live
    assert rss_bytes() - rss < 2 * 2 ** 20         # nor did the process
    assert tape.compactions > 0
    assert loss.data < 1.0


def test_flat_memory_without_the_cyclic_gc():
    gc.collect()
    gc.disable()
    try:
        tape = current_tape()
        params = [Value(0.1 * i) for i in range(8)]
        micrograd_style_steps(params, [0.5, -0.5], 20)
        nbytes = tape.nbytes
        micrograd_style_steps(params, [0.5, -0.5], 1000)
        assert tape.nbytes == nbytes
    finally:
        gc.enable()


def test_handles_are_not_tracked_by_the_cyclic_gc():
    v = Value(1.0)
    assert not gc.is_tracked(v) and not gc.is_tracked(v * 2.0)


def test_compaction_keeps_live_nodes_exact():
    # keep a few interior nodes alive while much garbage is made and compacted away
    tape = current_tape()
    x = Value(0.7)
    kept = []
    y = x
    start = tape.compactions
    for i in range(40_000):
        y = (y * 0.999 + 0.001).sin()
        if i % 5000 == 0:
            kept.append(y)
        junk = y * 3.0
        for _ in range(5):
            junk = junk + 1.0                     # dies at once
    assert tape.compactions > start               # the tape did compact
    y.backward()
    # every kept node still knows its value, op and parents after being moved
    for k in kept:
        assert k.op == "sin" and k.parents[0].op == "+"
        (p,) = k.parents
        assert math.isclose(k.data, math.sin(p.data), rel_tol=1e-15)
    value, grad = 0.7, 1.0
    for _ in range(40_000):
        u = value * 0.999 + 0.001
        grad *= math.cos(u) * 0.999
        value = math.sin(u)
    assert math.isclose(y.data, value, rel_tol=1e-12)
    assert math.isclose(x.grad, grad, rel_tol=1e-9)


def test_parents_handle_survives_its_children():
    x = Value(2.0)
    y = (x * 3.0).tanh()
    (m,) = y.parents                       # a handle made for an interior node
    del y
    z = m + 1.0
    z.backward()
    assert (m.data, m.op, z.data) == (6.0, "*", 7.0) and x.grad == 3.0


def test_deleting_a_deep_graph_does_not_recurse():
    x = Value(1.0)
    for _ in range(200_000):
        x = x + 1.0
    del x                                   # nothing recursive in deallocation either


def test_tape_repr_and_len():
    t = fastgrad.Tape()
    assert len(t) == 0 and "0 nodes" in repr(t) and t.capacity >= 1024


def test_labels_live_on_the_tape_and_follow_compaction():
    tape = current_tape()
    x = Value(0.5, label="x")
    y = (x * 2.0).tanh()
    y.parents[0].label = "twice x"          # the handle made here dies at once
    start = tape.compactions
    while tape.compactions == start:        # garbage until the tape compacts
        junk = y + 1.0
        for _ in range(50):
            junk = junk * 1.0
    del junk
    assert y.parents[0].label == "twice x" and y.parents[0].parents[0].label == "x"
    y.label = "y"
    y.label = ""
    assert y.label == "" and repr(y).endswith("op='tanh')")


def in_fresh_thread(fn):
    """Run ``fn`` in a new thread (so on a tape of its own); re-raise what it raised."""
    import threading
    box = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as exc:         # noqa: BLE001 - handed to the caller
            box["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("result")


def consistent(tape):
    # every column holds at least the rows the tape may write
    return min(tape._allocated_rows()) >= tape.capacity >= len(tape) + 1


@pytest.mark.parametrize("failing", [1, 3, 9])
def test_a_failed_shrink_leaves_the_tape_consistent(failing):
    from fastgrad import _scalar

    def run():
        tape = current_tape()
        x = Value(0.25)
        y = x
        for _ in range(300_000):
            y = y + 1.0
        big = tape.capacity
        assert big > 2 ** 17
        _scalar._fail_allocation(failing)   # the failing-th realloc of the shrink fails
        try:
            del y                           # the graph dies: trimmed, then shrunk
        finally:
            _scalar._fail_allocation(0)
        assert tape.capacity < big and consistent(tape), (tape.capacity,
                                                          tape._allocated_rows())
        assert tape.nbytes == sum(r * s for r, s in zip(tape._allocated_rows(),
                                                        [1, 4, 4, 8, 8, 8, 8, 4, 8]))
        # the tape grows again and computes exactly
        z = x
        for _ in range(200_000):
            z = z * 1.0 + 1.0
        z.backward()
        assert z.data == 200_000.25 and x.grad == 1.0 and consistent(tape)

    in_fresh_thread(run)


def test_a_failed_growth_raises_and_leaves_the_tape_usable():
    from fastgrad import _scalar

    def run():
        tape = current_tape()
        x = Value(1.0)
        y = x
        while len(tape) + 1 < tape.capacity:
            y = y + 1.0
        cap, n = tape.capacity, len(tape)
        _scalar._fail_allocation(4)         # the fourth column cannot grow
        try:
            with pytest.raises(MemoryError, match="cannot allocate a tape"):
                y + 1.0
        finally:
            _scalar._fail_allocation(0)
        assert (tape.capacity, len(tape)) == (cap, n) and consistent(tape)
        for _ in range(3 * cap):
            y = y + 1.0
        y.backward()
        assert y.data == 1.0 + (n - 1) + 3 * cap and x.grad == 1.0 and consistent(tape)

    in_fresh_thread(run)


def test_fail_allocation_hook_rejects_negative_counts():
    from fastgrad import _scalar
    with pytest.raises(ValueError, match="n >= 0"):
        _scalar._fail_allocation(-1)
