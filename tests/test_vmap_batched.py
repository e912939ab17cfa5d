"""BatchedFunction on numpy input: per-sample Jacobians and Hessians against a loop of
``Function.jacobian``/``Function.hessian``, and ``reduce=`` against ``np.sum``."""
import numpy as np
import pytest

from fastgrad import trace


def model(w, x, y):
    z = (w[0] * x[0] + w[1] * x[1] + w[2]).tanh() * w[3].exp()
    return (z - y) ** 2 + (w[0] * x[1]).sin()


def two_outputs(w, x):
    return [w[0] * x.sin() + w[1] ** 2, (w[1] * x).tanh() / (1.0 + w[0] ** 2)]


@pytest.fixture
def data():
    rng = np.random.default_rng(16)
    return (rng.normal(size=4) * 0.5, rng.normal(size=(23, 2)), rng.normal(size=23))


def test_per_sample_jacobian_and_hessian_equal_a_loop_of_single_calls(data):
    W, X, Y = data
    F = trace(model, [0.1, 0.2, 0.3, 0.4], [1.0, 2.0], 0.5)
    B = F.vmap((None, 0, 0))
    for argnum, m in ((0, 4), (1, 2)):
        J = B.jacobian(W, X, Y, argnum=argnum)
        H = B.hessian(W, X, Y, argnum=argnum)
        assert J.shape == (23, m) and H.shape == (23, m, m)
        for s in range(23):
            np.testing.assert_array_equal(J[s], F.jacobian(W, X[s], Y[s], argnum=argnum))
            np.testing.assert_array_equal(H[s], F.hessian(W, X[s], Y[s], argnum=argnum))
        np.testing.assert_array_equal(J, B.grad(W, X, Y, argnum=argnum))
    # a scalar argument: one number per sample
    J, H = B.jacobian(W, X, Y, argnum=2), B.hessian(W, X, Y, argnum=2)
    assert J.shape == H.shape == (23,)
    for s in (0, 7, 22):
        assert J[s] == F.jacobian(W, X[s], Y[s], argnum=2)
        assert H[s] == F.hessian(W, X[s], Y[s], argnum=2)
    # the Hessian of a smooth function is symmetric; sample 0 against finite differences
    H = B.hessian(W, X, Y)
    np.testing.assert_allclose(H, H.transpose(0, 2, 1), rtol=1e-12, atol=1e-14)
    h, fd = 1e-5, np.empty((4, 4))
    for j in range(4):
        e = np.zeros(4)
        e[j] = h
        fd[:, j] = (F.grad(W + e, X[0], Y[0]) - F.grad(W - e, X[0], Y[0])) / (2 * h)
    np.testing.assert_allclose(H[0], fd, rtol=1e-6, atol=1e-8)


def test_per_sample_jacobian_of_several_outputs(data):
    W, X, _ = data
    F = trace(two_outputs, [0.3, 0.4], 0.2)
    B = F.vmap((None, 0))
    J = B.jacobian(W[:2], X[:, 0])
    assert J.shape == (23, 2, 2)
    for s in range(23):
        np.testing.assert_array_equal(J[s], F.jacobian(W[:2], X[s, 0]))
    Jx = B.jacobian(W[:2], X[:, 0], argnum=1)
    assert Jx.shape == (23, 2)
    np.testing.assert_array_equal(Jx[5], F.jacobian(W[:2], X[5, 0], argnum=1))
    with pytest.raises(ValueError, match="one output"):
        B.hessian(W[:2], X[:, 0])
    with pytest.raises(ValueError, match="one output"):
        B.value_and_grad(W[:2], X[:, 0], reduce="sum")


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_reduce_is_the_sum_or_mean_of_the_per_sample_results(data, reduce):
    W, X, Y = data
    F = trace(model, [0.1, 0.2, 0.3, 0.4], [1.0, 2.0], 0.5)
    B = F.vmap((None, 0, 0))
    n = 1 if reduce == "sum" else 23
    v, g = B.value_and_grad(W, X, Y)
    rv, rg = B.value_and_grad(W, X, Y, reduce=reduce)
    assert isinstance(rv, float) and rv == np.sum(v) / n
    np.testing.assert_array_equal(rg, np.sum(g, axis=0) / n)
    assert B(W, X, Y, reduce=reduce) == rv
    np.testing.assert_array_equal(B.grad(W, X, Y, reduce=reduce), rg)
    np.testing.assert_array_equal(B.grad(W, X, Y, argnum=1, reduce=reduce),
                                  np.sum(B.grad(W, X, Y, argnum=1), axis=0) / n)
    gy = B.grad(W, X, Y, argnum=2, reduce=reduce)
    assert isinstance(gy, float) and gy == np.sum(B.grad(W, X, Y, argnum=2)) / n
    np.testing.assert_array_equal(B.hessian(W, X, Y, reduce=reduce),
                                  np.sum(B.hessian(W, X, Y), axis=0) / n)
    np.testing.assert_array_equal(B.jacobian(W, X, Y, reduce=reduce), rg)
    F2 = trace(two_outputs, [0.3, 0.4], 0.2)
    out = F2.vmap((None, 0))(W[:2], X[:, 0], reduce=reduce)
    assert out.shape == (2,)
    np.testing.assert_array_equal(out, np.sum(F2.vmap((None, 0))(W[:2], X[:, 0]), axis=0) / n)


@pytest.mark.parametrize("bad", ["Sum", "max", "", 0, True, ["sum"]])
def test_a_bad_reduce_names_the_allowed_ones(data, bad):
    W, X, Y = data
    B = trace(model, [0.1, 0.2, 0.3, 0.4], [1.0, 2.0], 0.5).vmap((None, 0, 0))
    for call in (B, B.value_and_grad, B.grad, B.jacobian, B.hessian):
        with pytest.raises(ValueError, match="reduce must be None, 'sum' or 'mean'"):
            call(W, X, Y, reduce=bad)


# ---- batches longer than one block of the compiled sweep ---------------------------

@pytest.mark.parametrize("N", [63, 64, 65, 129, 200])
def test_batches_over_several_blocks_equal_single_calls(N):
    # the sweep takes 64 samples at a time (BLOCK): every block boundary, and a last
    # block of one sample (the one-sample sweep), gives each sample its own numbers
    rng = np.random.default_rng(N)
    W, X, Y = rng.normal(size=4) * 0.5, rng.normal(size=(N, 2)), rng.normal(size=N)
    F = trace(model, [0.1, 0.2, 0.3, 0.4], [1.0, 2.0], 0.5)
    B = F.vmap((None, 0, 0))
    v, g = B.value_and_grad(W, X, Y)
    gx = B.grad(W, X, Y, argnum=1)
    H = B.hessian(W, X, Y)
    assert v.shape == (N,) and g.shape == (N, 4) and H.shape == (N, 4, 4)
    for s in sorted({0, 62, 63, 64, N - 2, N - 1} & set(range(N))):
        vs, gs = F.value_and_grad(W, X[s], Y[s])
        assert v[s] == vs
        np.testing.assert_array_equal(g[s], gs)
        np.testing.assert_array_equal(gx[s], F.grad(W, X[s], Y[s], argnum=1))
        np.testing.assert_array_equal(H[s], F.hessian(W, X[s], Y[s]))


def test_a_guard_in_a_later_block_names_its_sample():
    from fastgrad import BranchChanged
    F = trace(lambda x: x * 2.0 if x > 0 else -x, 1.0)
    B = F.vmap((0,))
    x = np.ones(150)
    np.testing.assert_array_equal(B(x), 2.0 * x)
    x[131] = -1.0
    with pytest.raises(BranchChanged, match="sample 131 of the batch"):
        B(x)
