"""Function.hessian by colouring: the sparsity pattern read off the program, one
forward-over-reverse direction per colour, entries recovered directly; against the dense
sweep (one direction per column), closed forms and the op table's second partials."""
import math
import pickle
import random

import numpy as np
import pytest

from fastgrad import BranchChanged, _scalar, trace

from test_function import rosenbrock as rosenbrock_chained
from test_function import rosenbrock_hessian as rosenbrock_chained_hessian


def sparse_dag(rng, n_inputs, n_terms):
    """A random function whose Hessian is sparse: a sum of terms, each a small random DAG
    over two or three of the inputs (shared subexpressions across terms included)."""
    unary = ["tanh", "sin", "cos", "sigmoid", "exp", "sq", "log1"]
    terms = []
    for _ in range(n_terms):
        picks = rng.sample(range(n_inputs), rng.choice([1, 2, 3]))
        steps = [(rng.choice(["add", "sub", "mul", "div", "mulk", "addk"] + unary),
                  rng.randrange(len(picks) + i), rng.randrange(len(picks) + i),
                  rng.uniform(-2, 2)) for i in range(rng.randrange(2, 7))]
        terms.append((picks, steps))

    def run(x):
        total = x[0] * 0.5
        for picks, steps in terms:
            vals = [x[p] for p in picks]
            for kind, i, j, k in steps:
                a, b = vals[i], vals[j]
                vals.append({
                    "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
                    "div": lambda: a / (b * b + 1.0), "mulk": lambda: a * k,
                    "addk": lambda: a + k, "tanh": lambda: a.tanh(), "sin": lambda: a.sin(),
                    "cos": lambda: a.cos(), "sigmoid": lambda: a.sigmoid(),
                    "exp": lambda: a.tanh().exp(), "sq": lambda: a ** 2,
                    "log1": lambda: (a * a + 1.0).log()}[kind]())
            total = total + vals[-1]
        return total

    return run


@pytest.mark.parametrize("seed", range(16))
def test_coloured_hessian_equals_the_dense_one_on_random_sparse_dags(seed):
    rng = random.Random(seed)
    n = rng.choice([5, 12, 40, 70])
    run = sparse_dag(rng, n, n_terms=rng.randrange(n // 2, 2 * n))
    nprng = np.random.default_rng(seed)
    F = trace(run, nprng.uniform(-1, 1, n))
    for _ in range(3):
        x = nprng.uniform(-1, 1, n)
        H, D = F.hessian(x), F.hessian(x, _dense=True)
        assert np.allclose(H, D, rtol=1e-12, atol=1e-300)
        assert np.array_equal(H, D)          # the same operations: the same bits
        assert np.array_equal(H, H.T) or np.allclose(H, H.T, rtol=1e-12, atol=1e-14)
    colouring = F.program.hessian_colouring(0, n)
    if colouring is not None:
        colour, n_colours, pattern = colouring
        assert n_colours < n
        assert not np.any(D[~pattern])       # the pattern holds every nonzero
        # structurally orthogonal: no row has two nonzeros of one colour
        for i in range(n):
            cols = np.flatnonzero(pattern[i])
            assert len(set(colour[cols])) == len(cols)
        assert np.all((colour >= 0) == pattern.any(axis=0))


def test_random_sparse_dags_do_get_coloured():
    coloured = 0
    for seed in range(16):
        rng = random.Random(seed)
        n = rng.choice([5, 12, 40, 70])
        run = sparse_dag(rng, n, n_terms=rng.randrange(n // 2, 2 * n))
        F = trace(run, np.full(n, 0.3))
        c = F.program.hessian_colouring(0, n)
        coloured += c is not None and c[1] < n // 2
    assert coloured >= 8


@pytest.mark.parametrize("n", [4, 30, 100])
def test_banded_hessian_matches_the_closed_form_in_three_colours(n):
    rng = np.random.default_rng(n)
    F = trace(rosenbrock_chained, rng.normal(size=n))
    colour, n_colours, pattern = F.program.hessian_colouring(0, n)
    assert n_colours == 3 and pattern.sum() == 3 * n - 2
    for _ in range(3):
        x = rng.normal(size=n)
        H = F.hessian(x)
        assert np.allclose(H, rosenbrock_chained_hessian(x), rtol=1e-12, atol=1e-10)
        assert np.array_equal(H, F.hessian(x, _dense=True))


def test_block_diagonal_hessian_needs_two_colours():
    def extended(x):
        return sum(100.0 * (x[2 * i + 1] - x[2 * i] ** 2) ** 2 + (1.0 - x[2 * i]) ** 2
                   for i in range(len(x) // 2))
    F = trace(extended, np.ones(20))
    assert F.program.hessian_colouring(0, 20)[1] == 2
    x = np.linspace(-1.2, 1.0, 20)
    H = np.zeros((20, 20))
    for i in range(10):
        a, b = x[2 * i], x[2 * i + 1]
        H[2 * i, 2 * i] = 1200 * a * a - 400 * b + 2
        H[2 * i, 2 * i + 1] = H[2 * i + 1, 2 * i] = -400 * a
        H[2 * i + 1, 2 * i + 1] = 200
    assert np.allclose(F.hessian(x), H, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["square of a sum", "product", "exp of a sum"])
def test_dense_hessians_fall_back_to_one_direction_per_column(kind):
    n = 6

    def fn(x):
        s = x[0]
        for v in x[1:]:
            s = s + v
        if kind == "square of a sum":
            return s * s
        if kind == "product":
            p = x[0]
            for v in x[1:]:
                p = p * v
            return p
        return s.exp()

    F = trace(fn, np.ones(n))
    assert F.program.hessian_colouring(0, n) is None     # n colours: nothing saved
    x = np.linspace(0.5, 1.5, n)
    if kind == "square of a sum":
        expected = np.full((n, n), 2.0)
    elif kind == "product":
        p = np.prod(x)
        expected = p / np.outer(x, x)
        np.fill_diagonal(expected, 0.0)
    else:
        expected = np.full((n, n), math.exp(x.sum()))
    assert np.allclose(F.hessian(x), expected, rtol=1e-12)
    assert np.array_equal(F.hessian(x), F.hessian(x, _dense=True))


def test_diagonal_hessian_in_one_colour_and_zero_columns():
    # x[1] and x[3] enter linearly: their rows and columns are structurally zero
    F = trace(lambda x: x[0].sin() + 3.0 * x[1] + x[2] ** 3 - x[3] + x[4].exp(), np.ones(5))
    colour, n_colours, pattern = F.program.hessian_colouring(0, 5)
    assert n_colours == 1 and list(colour) == [0, -1, 0, -1, 0]
    x = np.array([0.3, -1.0, 0.7, 2.0, -0.4])
    assert np.allclose(F.hessian(x), np.diag([-math.sin(0.3), 0, 6 * 0.7, 0, math.exp(-0.4)]),
                       rtol=1e-12, atol=0)


def test_linear_function_has_a_zero_hessian_without_colours():
    F = trace(lambda x: 2.0 * x[0] - x[1] + x[2] * 0.5 + 1.0, [1.0, 2.0, 3.0])
    colour, n_colours, pattern = F.program.hessian_colouring(0, 3)
    assert n_colours == 0 and not pattern.any()
    H = F.hessian([0.1, 0.2, 0.3])
    assert H.shape == (3, 3) and not H.any()


def test_hessian_of_a_later_argument_and_mixed_dependencies():
    # the Hessian w.r.t. y (inputs 2:5); x enters the curvature but is not differentiated
    F = trace(lambda x, y: x[0] * y[0] * y[1] + (x[1] * y[2]).sin() + y[0] ** 2, [1.0, 2.0],
              [0.5, 0.6, 0.7])
    x, y = [0.9, -1.1], [0.4, 1.3, -0.2]
    s = math.sin(x[1] * y[2])
    expected = np.array([[2.0, x[0], 0.0], [x[0], 0.0, 0.0], [0.0, 0.0, -x[1] ** 2 * s]])
    assert np.allclose(F.hessian(x, y, argnum=1), expected, rtol=1e-12, atol=1e-15)
    assert np.array_equal(F.hessian(x, y, argnum=1), F.hessian(x, y, argnum=1, _dense=True))
    colour, n_colours, pattern = F.program.hessian_colouring(2, 5)
    assert n_colours == 2


def test_non_finite_partials_take_the_dense_sweep():
    # sqrt'(0) = inf: the coloured sweep's 0 * inf would not be where the dense one's is
    F = trace(lambda x: x[0].sqrt() * x[1] + x[2] ** 2 + x[3].sin(), [1.0, 1.0, 1.0, 1.0])
    assert F.program.hessian_colouring(0, 4) is not None
    for point in ([0.0, 2.0, 1.0, 0.5], [float("inf"), 1.0, 2.0, 0.0],
                  [1.0, float("nan"), 1.0, 1.0], [4.0, 1.0, 1.0, 1.0]):
        H, D = F.hessian(point), F.hessian(point, _dense=True)
        assert np.array_equal(H, D, equal_nan=True)


def test_coloured_hessian_keeps_the_guards():
    def fn(x):
        return x[0] ** 2 + (x[1].sin() if x[1] > 0 else x[1].cos()) + x[2] ** 3
    F = trace(fn, [1.0, 1.0, 1.0])
    assert F.program.hessian_colouring(0, 3)[1] == 1
    assert np.allclose(F.hessian([1.0, 0.5, 2.0]), np.diag([2.0, -math.sin(0.5), 12.0]),
                       rtol=1e-12, atol=0)
    with pytest.raises(BranchChanged, match="x|inputs"):
        F.hessian([1.0, -0.5, 2.0])


def test_pickled_function_recolours():
    rng = np.random.default_rng(3)
    F = trace(rosenbrock_chained, rng.normal(size=12))
    G = pickle.loads(pickle.dumps(F))
    x = rng.normal(size=12)
    assert np.array_equal(G.hessian(x), F.hessian(x))
    assert G.program.hessian_colouring(0, 12)[1] == 3


def test_program_hessian_rejects_bad_ranges():
    F = trace(lambda x: x[0] * x[1], [1.0, 2.0])
    with pytest.raises(ValueError, match="not within"):
        F.program.hessian(np.ones(2), 1, 3)
    with pytest.raises(ValueError, match="not within"):
        F.program.hessian_colouring(-1, 1)
    with pytest.raises(ValueError, match="expected 2 inputs"):
        F.program.hessian(np.ones(3), 0, 2)
    assert F.program.hessian(np.ones(2), 1, 1).shape == (0, 0)
    G = trace(lambda x: [x[0] * x[1], x[0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="one output"):
        G.program.hessian(np.ones(2), 0, 2)


@pytest.mark.parametrize("code", [r.code for r in _scalar.OPS if r.arity and not r.guard])
def test_every_rows_curvature_bits_cover_its_second_partials(code):
    # a missing bit would drop Hessian entries: every nonzero of rule2 must be declared
    row = _scalar.OPS[code]
    xx, xy, yy = _scalar.curvature(code)
    rng = random.Random(code)
    for _ in range(50):
        x, y = rng.uniform(0.1, 3.0), rng.uniform(-2.0, 2.0)
        dxx, dxy, dyy = _scalar.apply2(code, x, y)
        assert xx or dxx == 0.0, (row.key, x, y)
        if row.arity == 2:
            assert xy or dxy == 0.0, (row.key, x, y)
            assert yy or dyy == 0.0, (row.key, x, y)
    assert _scalar.curvature(_scalar.OPS[code].code) == (xx, xy, yy)


def test_curvature_bits_of_the_bilinear_ops_are_exact():
    keys = {r.key: r.code for r in _scalar.OPS}
    assert _scalar.curvature(keys["mul"]) == (False, True, False)
    assert _scalar.curvature(keys["div"]) == (False, True, True)
    assert _scalar.curvature(keys["add"]) == (False, False, False)
    assert _scalar.curvature(keys["tanh"]) == (True, False, False)
    with pytest.raises(ValueError, match="op code"):
        _scalar.curvature(len(_scalar.OPS))


def test_hessian_takes_arrays_lists_and_strided_views_alike():
    F = trace(rosenbrock_chained, np.ones(6))
    x = np.linspace(-1.0, 1.5, 12)[::2]                  # a strided view
    expected = rosenbrock_chained_hessian(x)
    for arg in (x, x.copy(), x.tolist()):
        assert np.array_equal(F.hessian(arg), F.hessian(x.tolist()))
        assert np.allclose(F.hessian(arg), expected, rtol=1e-12, atol=1e-12)
    x32 = x.astype(np.float32)                           # converted, as in every call
    assert np.array_equal(F.hessian(x32), F.hessian(x32.astype(np.float64)))
    with pytest.raises(ValueError, match="expected 6 items"):
        F.hessian(np.ones(5))
    with pytest.raises(TypeError, match="real numbers"):
        F.hessian(np.ones(6, complex))
    G = trace(lambda t: t.sin() * t, 0.5)
    t = 0.8
    assert math.isclose(G.hessian(np.float64(t)), 2 * math.cos(t) - t * math.sin(t),
                        rel_tol=1e-14)
    assert math.isclose(G.hessian(np.array(t)), 2 * math.cos(t) - t * math.sin(t),
                        rel_tol=1e-14)
