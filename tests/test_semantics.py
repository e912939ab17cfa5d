"""Gradient accumulation, attributes, repr, comparisons and bad input, on both engines."""
import math
import threading

import numpy as np
import pytest

import fastgrad
import fastgrad.reference


def test_leaf_gradients_accumulate_until_zeroed(V):
    x = V(3.0)
    y = x * x
    y.backward()
    assert x.grad == 6.0
    y.backward()
    assert x.grad == 12.0
    (x * 2.0).backward()
    assert x.grad == 14.0
    x.grad = 0
    y.backward()
    assert x.grad == 6.0


def test_interior_nodes_show_the_latest_sweep(V):
    x = V(3.0)
    h = x * 2.0
    y = h * h
    y.backward()
    y.backward()
    assert h.grad == 2 * h.data          # not accumulated over the two sweeps
    z = h * 5.0
    z.backward()
    assert h.grad == 5.0


def test_unrelated_graphs_are_left_alone(V):
    x, w = V(1.5), V(-2.0)
    a = x * 3.0
    b = w * 4.0
    a.backward()
    b.backward()
    assert (x.grad, w.grad, a.grad, b.grad) == (3.0, 4.0, 1.0, 1.0)


def test_value_used_twice_sums_both_paths(V):
    a = V(-2.0)
    b = V(3.0)
    d = a * b
    e = a + b
    f = d * e
    f.backward()
    # f = ab(a+b): df/da = 2ab + b^2, df/db = a^2 + 2ab
    assert (a.grad, b.grad) == (-3.0, -8.0)
    c = V(3.0)
    s = c + c
    s.backward()
    assert c.grad == 2.0


def test_backward_seed_and_leaf_root(V):
    x = V(2.0)
    (x * x).backward(gradient=0.5)
    assert x.grad == 2.0
    x.backward()                          # d x / d x
    assert x.grad == 3.0


def test_data_settable_on_leaves_only(V):
    a = V(1.0)
    b = a * 2.0
    a.data = 5
    assert a.data == 5.0 and isinstance(a.data, float)
    a.data -= 0.5
    assert a.data == 4.5
    with pytest.raises(AttributeError, match=r"computed by '\*'.*leaves"):
        b.data = 3.0
    assert b.data == 2.0                  # the recorded value is unchanged


def test_partials_are_those_of_the_recorded_computation(V):
    a = V(2.0)
    b = a * a
    a.data = 10.0                         # after recording: b still says 4.0
    b.backward()
    assert (b.data, a.grad) == (4.0, 4.0)


def test_labels_ops_parents_repr(V):
    a = V(2.0, label="a")
    b = a * 3
    assert a.label == "a" and b.label == ""
    b.label = "b"
    assert b.op == "*" and b.parents == (a,) and b.constant == 3.0
    assert a.is_leaf and not b.is_leaf and a.constant is None
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    b.backward()
    assert repr(b) == "Value(data=6.0, grad=1.0, op='*', label='b')"
    with pytest.raises(TypeError, match="label must be a str, got int"):
        a.label = 3
    with pytest.raises(TypeError, match="label must be a str"):
        V(1.0, label=None)


def test_parents_of_every_arity(V):
    x, y = V(1.0), V(2.0)
    assert (x + y).parents == (x, y)
    assert (2.0 - x).parents == (x,)
    assert x.tanh().parents == (x,)
    assert (-x).op == "neg"


def test_comparisons_use_data_equality_uses_identity(V):
    a, b = V(1.0), V(2.0)
    assert a < b and a <= b and b > a and b >= a and a < 1.5 and b >= 2
    assert a != V(1.0) and a == a
    assert len({a, b, a}) == 2
    assert float(b) == 2.0


def test_numbers_accepted_as_floats(V):
    for x in (3, 3.0, True, np.float64(3.0), np.float32(3.0), np.int64(3), np.int8(3)):
        v = V(x)
        assert isinstance(v.data, float)
        assert (v * x).data == float(x) * float(x)
        assert (x * v).data == float(x) * float(x)
    assert (np.float64(2.0) * V(3.0)).data == 6.0      # numpy scalar on the left
    assert isinstance(np.float64(2.0) * V(3.0), V)


@pytest.mark.parametrize("bad,name", [("abc", "str"), (None, "NoneType"), (1j, "complex"),
                                      ([1.0], "list"), (np.complex128(1), "complex128"),
                                      (np.array([1.0, 2.0]), "ndarray")])
def test_bad_data_raises_type_error_naming_the_type(V, bad, name):
    with pytest.raises(TypeError, match=rf"Value\(\) takes a real number.*got {name}"):
        V(bad)


@pytest.mark.parametrize("bad", ["abc", None, 1j, [1.0]])
def test_bad_operands_raise_type_error(V, bad):
    v = V(1.0)
    for op in (lambda: v + bad, lambda: bad + v, lambda: v * bad, lambda: v ** bad,
               lambda: bad - v, lambda: v / bad):
        with pytest.raises(TypeError):
            op()
    with pytest.raises(TypeError, match="real number"):
        v.data = bad
    with pytest.raises(TypeError, match="real number"):
        v.grad = bad


def test_engines_do_not_mix():
    a, r = fastgrad.Value(1.0), fastgrad.reference.Value(2.0)
    for op in (lambda: a + r, lambda: r + a, lambda: a * r, lambda: r ** a):
        with pytest.raises(TypeError, match="different engines"):
            op()


def test_values_of_two_threads_do_not_combine():
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", fastgrad.Value(2.0)))
    t.start()
    t.join()
    mine = fastgrad.Value(1.0)
    with pytest.raises(ValueError, match="different tapes.*thread"):
        mine + out["v"]
    assert (mine + 2.0 * out["v"].data).data == 5.0


def test_threads_record_and_sweep_concurrently():
    # each thread builds and differentiates its own graphs, and all of them also use
    # one shared parameter (recorded on the main thread's tape): results stay exact
    shared = fastgrad.Value(0.5)
    errors = []

    def work(seed):
        try:
            for i in range(300):
                x = fastgrad.Value(seed + i * 1e-3)
                y = x
                for _ in range(20):
                    y = (y * 0.9 + 0.1).tanh()
                y.backward()
                expected = 1.0
                z = x.data
                for _ in range(20):
                    t = math.tanh(z * 0.9 + 0.1)
                    expected *= 0.9 * (1 - t * t)
                    z = t
                assert math.isclose(x.grad, expected, rel_tol=1e-12)
                s = shared * float(seed)
                assert s.data == 0.5 * seed
        except Exception as exc:          # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_values_outlive_their_thread():
    holder = []
    t = threading.Thread(target=lambda: holder.append(fastgrad.Value(1.0) * 2.0))
    t.start()
    t.join()
    y = holder[0] * 3.0
    y.backward()
    (x,) = holder[0].parents
    assert (y.data, x.data, x.grad) == (6.0, 1.0, 6.0)


def test_values_refuse_copy_and_pickle(V):
    import copy
    import pickle
    v = V(2.0)
    for fn in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match="cannot be copied or pickled"):
            fn(v)
    w = v * 3.0                              # the handle is intact
    assert (v.data, v.op, w.parents[0] is v) == (2.0, "", True)
