"""fastgrad.Function: record once, replay in C; every mode against the eager engine,
closed forms and PyTorch; vmap, guards, save/load/pickle, bad input."""
import math
import pickle
import random

import numpy as np
import pytest

import fastgrad
from fastgrad import BranchChanged, Function, Value, load_function, trace

from test_ops import CASES


def eager(fn, point):
    xs = [Value(p) for p in point]
    out = fn(*xs)
    out.backward()
    return out.data, [x.grad for x in xs]


def close(a, b, rel=1e-12):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.allclose(a, b, rtol=rel, atol=1e-300, equal_nan=True)


def near(point, rng):
    # a new point near the recorded one, on the same side of 0 (same domain, same kink side)
    return [p * rng.uniform(0.6, 1.4) + (0.0 if p else rng.uniform(-0.1, 0.1)) for p in point]


@pytest.mark.parametrize("case", sorted(CASES))
def test_replay_equals_the_eager_engine_for_every_op(case):
    fn, point = CASES[case]
    F = trace(fn, *point)
    rng = random.Random(case)
    for _ in range(25):
        p = near(point, rng)
        value, grads = eager(fn, p)
        assert close(F(*p), value)
        for i, g in enumerate(grads):
            assert close(F.grad(*p, argnum=i), g)


def random_dag(rng, n_inputs=3, n_ops=40):
    """A random program over Values: a list of (kind, operands) steps and a runner."""
    unary = ["tanh", "sin", "cos", "sigmoid", "exp_small", "neg", "sq", "log_safe"]
    steps = []
    for i in range(n_ops):
        pool = n_inputs + i
        kind = rng.choice(["add", "sub", "mul", "div_safe", "addk", "mulk", "rsubk"] + unary)
        steps.append((kind, rng.randrange(pool), rng.randrange(pool), rng.uniform(-2, 2)))

    def run(*xs):
        vals = list(xs)
        for kind, i, j, k in steps:
            a, b = vals[i], vals[j]
            vals.append({
                "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
                "div_safe": lambda: a / (b * b + 1.0), "addk": lambda: a + k,
                "mulk": lambda: a * k, "rsubk": lambda: k - a, "tanh": lambda: a.tanh(),
                "sin": lambda: a.sin(), "cos": lambda: a.cos(), "sigmoid": lambda: a.sigmoid(),
                "exp_small": lambda: (a.tanh()).exp(), "neg": lambda: -a, "sq": lambda: a ** 2,
                "log_safe": lambda: (a * a + 1.0).log()}[kind]())
        return vals[-1] + vals[-2] * 0.5 + vals[-7]

    return run


@pytest.mark.parametrize("seed", range(12))
def test_replay_equals_the_eager_engine_on_random_dags(seed):
    rng = random.Random(seed)
    run = random_dag(rng)
    F = trace(run, 0.3, -0.7, 1.1)
    for _ in range(10):
        p = [rng.uniform(-1.5, 1.5) for _ in range(3)]
        value, grads = eager(run, p)
        assert close(F(*p), value)
        for i in range(3):
            assert close(F.grad(*p, argnum=i), grads[i], rel=1e-11)


def rosenbrock(x):
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
               for i in range(len(x) - 1))


def rosenbrock_hessian(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] -= 400 * x[i]
        H[i + 1, i] -= 400 * x[i]
    return H


@pytest.mark.parametrize("n", [2, 10])
def test_hessian_of_rosenbrock_matches_the_closed_form(n):
    rng = np.random.default_rng(n)
    F = trace(rosenbrock, rng.normal(size=n))
    for _ in range(3):
        x = rng.normal(size=n)
        H = F.hessian(x)
        assert H.shape == (n, n)
        assert np.allclose(H, rosenbrock_hessian(x), rtol=1e-12, atol=1e-10)


def test_hessians_of_scalar_arguments_match_closed_forms():
    F = trace(lambda x, y: x ** 3 * y + (x * y).sin(), 0.5, 1.5)
    x, y = 0.7, -1.2
    assert math.isclose(F.hessian(x, y), 6 * x * y - y * y * math.sin(x * y), rel_tol=1e-12)
    assert math.isclose(F.hessian(x, y, argnum=1), -x * x * math.sin(x * y), rel_tol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_hessian_matches_pytorch_on_random_dags(seed):
    torch = pytest.importorskip("torch")
    rng = random.Random(100 + seed)
    run = random_dag(rng, n_inputs=3, n_ops=25)
    F = trace(lambda v: run(*v), [0.2, 0.4, -0.3])
    p = [rng.uniform(-1, 1) for _ in range(3)]

    class T:                            # torch tensors with Value's method names
        pass

    t = torch.tensor(p, dtype=torch.float64)

    def f(v):
        return run(*[_TorchScalar(v[i]) for i in range(3)]).t

    H = torch.autograd.functional.hessian(f, t).numpy()
    assert np.allclose(F.hessian(p), H, rtol=1e-10, atol=1e-12)


class _TorchScalar:
    """A torch 0-d tensor answering Value's methods, so the same code runs on both."""

    def __init__(self, t):
        self.t = t

    def _w(self, o):
        return o.t if isinstance(o, _TorchScalar) else o

    def __add__(self, o): return _TorchScalar(self.t + self._w(o))
    def __radd__(self, o): return _TorchScalar(self._w(o) + self.t)
    def __sub__(self, o): return _TorchScalar(self.t - self._w(o))
    def __rsub__(self, o): return _TorchScalar(self._w(o) - self.t)
    def __mul__(self, o): return _TorchScalar(self.t * self._w(o))
    def __rmul__(self, o): return _TorchScalar(self._w(o) * self.t)
    def __truediv__(self, o): return _TorchScalar(self.t / self._w(o))
    def __pow__(self, o): return _TorchScalar(self.t ** self._w(o))
    def __neg__(self): return _TorchScalar(-self.t)
    def tanh(self): return _TorchScalar(self.t.tanh())
    def sin(self): return _TorchScalar(self.t.sin())
    def cos(self): return _TorchScalar(self.t.cos())
    def sigmoid(self): return _TorchScalar(self.t.sigmoid())
    def exp(self): return _TorchScalar(self.t.exp())
    def log(self): return _TorchScalar(self.t.log())


def test_jvp_vjp_hvp_agree_with_jacobian_and_hessian():
    def fn(x, y):
        return [x[0] * x[1] + y.sin(), (x[0] - y).tanh() * x[1], x[1] ** 3]

    F = trace(fn, [0.3, 0.8], 0.4)
    args = ([0.5, -0.2], 0.9)
    J = F.jacobian(*args)                       # (3 outputs, 2 inputs of argument 0)
    Jy = F.jacobian(*args, argnum=1)            # (3,)
    assert J.shape == (3, 2) and Jy.shape == (3,)
    u = np.array([0.7, -1.3])
    value, tangent = F.jvp(args, ([u[0], u[1]], 0.25))
    assert close(value, F(*args)) and close(tangent, J @ u + Jy * 0.25)
    w = np.array([0.3, -0.4, 2.0])
    value, (cx, cy) = F.vjp(args, w)
    assert close(cx, w @ J) and close(cy, w @ Jy)
    G = trace(lambda x: (x[0] * x[1]).sin() + x[0] ** 4 * x[1], [0.2, 0.3])
    x = [0.6, -0.9]
    H = G.hessian(x)
    assert close(G.hvp((x,), u), H @ u) and close(H, H.T)
    assert close(G.jacobian(x), G.grad(x))


def test_vmap_equals_a_loop_of_single_calls():
    def fn(w, x, y):
        z = (w[0] * x[0] + w[1] * x[1] + w[2]).tanh()
        return (z - y) ** 2

    F = trace(fn, [0.1, 0.2, 0.3], [1.0, 2.0], 0.5)
    rng = np.random.default_rng(0)
    W = rng.normal(size=3)
    X = rng.normal(size=(17, 2))
    Y = rng.normal(size=17)
    B = F.vmap((None, 0, 0))
    values, grads = B.value_and_grad(W, X, Y)
    assert values.shape == (17,) and grads.shape == (17, 3)
    for i in range(17):
        v, g = F.value_and_grad(W, X[i], Y[i])
        assert close(values[i], v) and close(grads[i], g)
    assert close(B(W, X, Y), values)
    gx = B.grad(W, X, Y, argnum=1)
    assert gx.shape == (17, 2) and close(gx[3], F.grad(W, X[3], Y[3], argnum=1))
    # lists work as batched arguments too, and a batch of one
    assert close(B(W, X.tolist(), Y.tolist()), values)
    assert close(B(W, X[:1], Y[:1]), values[:1])


def test_vmap_of_several_outputs():
    F = trace(lambda x: [x * 2.0, x.sin()], 0.3)
    out = F.vmap((0,))(np.array([0.1, 0.2, 0.3]))
    assert out.shape == (3, 2) and close(out[:, 1], np.sin([0.1, 0.2, 0.3]))


# ---- guards ---------------------------------------------------------------------------

def branchy(x, y):
    if x > y:
        return x * x
    return -x + y


def test_a_comparison_is_a_guard():
    F = trace(branchy, 2.0, 1.0)
    assert F(3.0, 1.5) == 9.0 and len(F.program.guards) == 1
    with pytest.raises(BranchChanged, match=r"comparison `inputs\[1\] < inputs\[0\]` was "
                                            r"True .* is False"):
        F(1.0, 2.0)
    G = trace(branchy, 0.0, 1.0)
    assert G(-1.0, 3.0) == 4.0
    with pytest.raises(BranchChanged):
        G(5.0, 1.0)


def test_guards_with_constants_and_max():
    F = trace(lambda a, b: max(a, b) * 2.0 if a > 0.5 else a, 1.0, 0.2)
    assert F(0.9, 0.1) == 1.8
    with pytest.raises(BranchChanged, match="0.5"):
        F(0.4, 0.1)
    with pytest.raises(BranchChanged):
        F(0.9, 1.5)                     # max(a, b) would pick b


def test_a_guard_names_its_sample_in_a_batch():
    F = trace(lambda x: x * 2.0 if x > 0 else x, 1.0)
    with pytest.raises(BranchChanged, match="sample 2 of the batch"):
        F.vmap((0,))(np.array([1.0, 2.0, -3.0, 4.0]))


def test_relu_and_abs_are_not_guards():
    F = trace(lambda x: x.relu() + abs(x), 1.0)
    assert len(F.program.guards) == 0 and F(-2.0) == 2.0 and F.grad(-2.0) == -1.0


def test_a_guard_is_kept_in_a_function_built_by_hand():
    x = Value(2.0)
    y = x * 3.0 if x > 1.0 else x
    F = Function(x, y)
    assert F(4.0) == 12.0
    with pytest.raises(BranchChanged):
        F(0.5)


def test_guards_on_unrelated_values_are_not_kept():
    c = Value(3.0)
    assert c > 1.0                      # c is no input: a constant outcome
    x = Value(1.0)
    F = Function(x, x * c)
    assert len(F.program.guards) == 0 and F(2.0) == 6.0


# ---- a Function is data ----------------------------------------------------------------

def some_function():
    return trace(lambda w, x: [(w[0] * x + w[1]).tanh(), x * 2.0 if x > 0 else x],
                 [0.5, 0.1], 0.7)


def test_save_and_load_round_trip(tmp_path):
    F = some_function()
    path = tmp_path / "f.npz"
    F.save(path)
    G = load_function(path)
    args = ([0.3, -0.2], 1.3)
    assert close(G(*args), F(*args)) and close(G.jacobian(*args), F.jacobian(*args))
    with pytest.raises(BranchChanged):
        G([0.3, -0.2], -1.0)
    with np.load(path, allow_pickle=False) as f:     # plain arrays: no pickle inside
        assert "op" in f.files


def test_pickle_round_trip_is_compact():
    F = trace(lambda x: [x := (x * 0.9 + 0.1).tanh() for _ in range(1000)][-1], 0.3)
    data = pickle.dumps(F)
    G = pickle.loads(data)
    assert G(0.4) == F(0.4) and G.grad(0.4) == F.grad(0.4)
    assert len(data) < 40 * F.program.n_instructions     # arrays, not Values


def test_files_that_are_not_saved_functions(tmp_path):
    text = tmp_path / "x.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a saved fastgrad.Function"):
        load_function(text)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(ValueError, match="not a saved fastgrad.Function"):
        load_function(other)
    F = some_function()
    F.save(tmp_path / "f.npz")
    with np.load(tmp_path / "f.npz") as f:
        data = dict(f)
    data["a"] = data["a"] + 1000                     # slots outside the program
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(ValueError, match="not a fastgrad program"):
        load_function(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError):
        load_function(tmp_path / "missing.npz")


def test_tape_table_and_draw_dot_show_the_program():
    F = trace(lambda x, y: (x * y).tanh() if x > 0 else x, 0.5, 2.0)
    table = fastgrad.tape_table(F)
    assert "tanh" in table and "*" in table and "guard" in table and "inputs[1]" in table
    dot = fastgrad.to_dot(F)
    assert "tanh" in dot and "digraph" in dot
    pytest.importorskip("graphviz")
    assert "tanh" in fastgrad.draw_dot(F).source


# ---- size and memory -------------------------------------------------------------------

def test_a_million_node_chain_replays_in_a_few_slots():
    a, b, x = Value(0.5), Value(0.1), Value(0.3)
    y = x
    for _ in range(10 ** 6 // 3):
        y = (y * a + b).tanh()
    F = Function([a, b, x], y)
    value = y.data
    y.backward()
    ga = a.grad
    del y
    assert F.program.n_slots <= 8          # liveness: the chain reuses its slots
    assert F(0.5, 0.1, 0.3) == value
    assert close(F.grad(0.5, 0.1, 0.3), ga)
    from test_memory import rss_bytes
    before = rss_bytes()
    for _ in range(5):
        F(0.5, 0.1, 0.3)
        F.grad(0.5, 0.1, 0.3)
    assert rss_bytes() - before < 8 * 10 ** 6      # the work space is reused


# ---- bad input -------------------------------------------------------------------------

def test_bad_arguments_raise_specific_errors():
    F = trace(lambda w, x: w[0] * x + w[1], [1.0, 2.0], 3.0)
    with pytest.raises(TypeError, match="takes 2 arguments, got 1"):
        F([1.0, 2.0])
    with pytest.raises(ValueError, match=r"argument 0: expected 2 items, got 3"):
        F([1.0, 2.0, 3.0], 1.0)
    with pytest.raises(TypeError, match="argument 1: expected a real number, got str"):
        F([1.0, 2.0], "x")
    with pytest.raises(TypeError, match="not a Value"):
        F([1.0, 2.0], Value(1.0))
    with pytest.raises(TypeError, match="expected a sequence"):
        F(1.0, 1.0)
    with pytest.raises(ValueError, match="argnum=2 is out of range"):
        F.grad([1.0, 2.0], 1.0, argnum=2)
    with pytest.raises(TypeError, match="argnum must be an int"):
        F.grad([1.0, 2.0], 1.0, argnum="0")
    B = F.vmap((0, 0))
    with pytest.raises(ValueError, match="argument 1 has 3 samples along axis 0, argument 0 "
                                         "has 2"):
        B(np.ones((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"must have shape \(N, 2\)"):
        B(np.ones((3, 5)), np.ones(3))
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        F.vmap((0,))
    with pytest.raises(ValueError, match="axis 0"):
        F.vmap((1, None))
    with pytest.raises(ValueError, match="no argument is batched"):
        F.vmap((None, None))


def test_non_finite_inputs_follow_ieee():
    F = trace(lambda x: (x * 2.0).exp(), 0.0)
    assert math.isnan(F(math.nan)) and F(math.inf) == math.inf and F(-math.inf) == 0.0
    assert math.isnan(F.grad(math.nan))


def test_an_input_the_output_ignores_gets_a_zero_gradient():
    F = trace(lambda x, y: x * 3.0, 1.0, 2.0)
    assert F.grad(1.0, 5.0, argnum=1) == 0.0 and F.grad(1.0, 5.0) == 3.0


def test_bad_inputs_and_outputs_when_building():
    x = Value(1.0)
    y = x * 2.0
    with pytest.raises(ValueError, match=r"input 0 .* computed by '\*', not a leaf"):
        Function([y], y + 1.0)
    with pytest.raises(ValueError, match="same Value as input 0"):
        Function([x, x], y)
    with pytest.raises(TypeError, match="must be Values"):
        Function([x], 3.0)
    with pytest.raises(TypeError, match="must return a Value"):
        trace(lambda x: 3.0, 1.0)
    with pytest.raises(TypeError, match="fn must be callable"):
        trace(3.0, 1.0)
    with pytest.raises(ValueError, match="shape"):
        trace(lambda x: x, np.ones((2, 2)))
    F = trace(lambda x: [x, x * 2.0], 1.0)
    with pytest.raises(ValueError, match="one output; this one has 2: use jacobian"):
        F.grad(1.0)
    with pytest.raises(ValueError, match="one output"):
        F.hessian(1.0)


def test_constants_keep_their_recorded_values():
    c = Value(5.0)
    x = Value(1.0)
    F = Function([x], x * c + (c * 2.0).sin())
    c.data = 100.0                      # a constant of the program, as recorded
    assert close(F(2.0), 10.0 + math.sin(10.0))


def test_functions_run_in_threads_without_the_gil():
    import threading
    F = trace(lambda x: [x := (x * 0.9 + 0.1).tanh() for _ in range(3000)][-1], 0.3)
    expected = F.grad(0.4)
    results = []

    def work():
        results.extend(F.grad(0.4) for _ in range(20))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 80


def test_training_micrograd_style_code_with_vmap():
    from fastgrad.nn.scalar import MLP, parameter_values, record_loss, set_parameter_values
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    Y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    model = MLP(2, [8, 8, 1], rng=0)
    hinge = lambda score, y: (1 + -y * score).relu()        # noqa: E731
    step = record_loss(model, hinge, 2)
    P = parameter_values(model)
    # the batched gradient equals the eager engine's, sample by sample, summed
    losses, grads = step.value_and_grad(P, X, Y)
    assert grads.shape == (40, len(P))
    total = sum(hinge(model([Value(a), Value(b)]), yi) for (a, b), yi in zip(X, Y))
    model.zero_grad()
    total.backward()
    assert close(losses.sum(), total.data)
    assert close(grads.sum(axis=0), [p.grad for p in model.parameters()], rel=1e-11)
    first = losses.mean()
    for _ in range(30):
        losses, grads = step.value_and_grad(P, X, Y)
        P = P - 0.05 * grads.mean(axis=0)
    assert step(P, X, Y).mean() < first
    set_parameter_values(model, P)
    assert model.parameters()[0].data == P[0]
    with pytest.raises(ValueError, match="n_in must be a positive int"):
        record_loss(model, hinge, 0)
    with pytest.raises(ValueError, match="has 105 parameters, got 2 values"):
        set_parameter_values(model, [1.0, 2.0])


def test_trace_keeps_guards_through_a_compaction():
    tape = fastgrad.current_tape()

    def fn(x):
        flag = x * 2.0 > 1.0            # the compared Value dies at once
        start = tape.compactions
        while tape.compactions == start:        # garbage until the tape compacts
            junk = x + 1.0
            for _ in range(50):
                junk = junk * 1.0
        del junk
        return x * 3.0 if flag else x

    F = trace(fn, 1.0)
    assert F(2.0) == 6.0 and len(F.program.guards) == 1
    with pytest.raises(BranchChanged, match=r"\(\* node\) > 1.0"):
        F(0.2)
