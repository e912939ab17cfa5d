"""Shapes, indexing, joining/splitting and sorting (``fastgrad/ops/shapes.py``), and
arrays of Tensors (``np.array``, ``np.r_``, ``np.c_``, mixed joins): one case each."""
import warnings

import numpy as onp
import pytest

import fastgrad.numpy as np
from fastgrad import Tensor, _tensor
from fastgrad.ops import shapes
from opcheck import ANY, Case, inputs, parametrize_cases


def _t(f):
    """A PyTorch version: ``f(torch, *tensors)``."""
    return lambda *a: f(__import__("torch"), *a)


def _pieces(ps):
    """The pieces of a split as one array, each weighted differently."""
    return np.concatenate([np.ravel(p) * (k + 1.0) for k, p in enumerate(ps)])


def _tpieces(torch, ps):
    return torch.cat([p.flatten() * (k + 1.0) for k, p in enumerate(ps)])


def _quiet(f, *args):
    """``f(*args)`` without its DeprecationWarning (numpy's row_stack)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return f(*args)


_IDX = onp.array([[2, 0, 1], [1, 1, 0]])


def _tidx(torch):
    return torch.tensor(_IDX)


def _pad(f):
    return _t(lambda torch, x: f(torch.nn.functional, x))


CASES = {
    # ---- moving elements ---------------------------------------------------------------
    "flip": Case(lambda x: np.flip(x, 1), [(2, 3, 4)], torch=_t(lambda t, x: t.flip(x, (1,)))),
    "flip_axes": Case(lambda x: np.flip(x, (0, -1)), [(2, 3, 4)],
                      torch=_t(lambda t, x: t.flip(x, (0, 2)))),
    "flip_all": Case(lambda x: np.flip(x), [(2, 3)], torch=_t(lambda t, x: t.flip(x, (0, 1)))),
    "flipud": Case(lambda x: np.flipud(x), [(3, 4)], torch=_t(lambda t, x: t.flipud(x))),
    "fliplr": Case(lambda x: np.fliplr(x), [(3, 4)], torch=_t(lambda t, x: t.fliplr(x))),
    "rot90": Case(lambda x: np.rot90(x, 1, axes=(1, 2)), [(2, 3, 4)],
                  torch=_t(lambda t, x: t.rot90(x, 1, (1, 2)))),
    "rot90_neg": Case(lambda x: np.rot90(x, -1), [(3, 4)],
                      torch=_t(lambda t, x: t.rot90(x, -1, (0, 1)))),
    "roll": Case(lambda x: np.roll(x, 2, axis=1), [(2, 3)], torch=_t(lambda t, x: t.roll(x, 2, 1))),
    "roll_flat": Case(lambda x: np.roll(x, -4), [(2, 3)], torch=_t(lambda t, x: t.roll(x, -4))),
    "roll_axes": Case(lambda x: np.roll(x, (1, -2), axis=(0, -1)), [(2, 3, 4)],
                      torch=_t(lambda t, x: t.roll(x, (1, -2), (0, -1)))),
    "tile": Case(lambda x: np.tile(x, (2, 1, 3)), [(2, 3)], torch=_t(lambda t, x: t.tile(x, (2, 1, 3)))),
    "tile_int": Case(lambda x: np.tile(x, 2), [(2, 3)], torch=_t(lambda t, x: t.tile(x, (2,)))),
    "resize": Case(lambda x: np.resize(x, (4, 5)), [(2, 3)]),
    "repeat": Case(lambda x: np.repeat(x, 2, axis=1), [(2, 3)],
                   torch=_t(lambda t, x: t.repeat_interleave(x, 2, dim=1))),
    "repeat_flat": Case(lambda x: np.repeat(x, 2), [(2, 3)],
                        torch=_t(lambda t, x: t.repeat_interleave(x, 2))),
    "repeat_counts": Case(lambda x: np.repeat(x, [1, 0, 3], axis=-1), [(2, 3)],
                          torch=_t(lambda t, x: t.repeat_interleave(x, t.tensor([1, 0, 3]), dim=-1))),
    "method_repeat": Case(lambda x: x.repeat(3, axis=0), [(2, 3)],
                          torch=_t(lambda t, x: t.repeat_interleave(x, 3, dim=0))),
    "diagonal": Case(lambda x: np.diagonal(x, 1, 0, 2), [(3, 2, 4)],
                     torch=_t(lambda t, x: t.diagonal(x, 1, 0, 2))),
    "diagonal_neg": Case(lambda x: np.diagonal(x, -1, axis1=-1, axis2=-2), [(2, 4, 3)],
                         torch=_t(lambda t, x: t.diagonal(x, -1, -1, -2))),
    "method_diagonal": Case(lambda x: x.diagonal(), [(3, 4)], torch=_t(lambda t, x: t.diagonal(x))),
    "take": Case(lambda x: np.take(x, [0, 2, 2], axis=-1), [(2, 3)],
                 torch=_t(lambda t, x: t.index_select(x, -1, t.tensor([0, 2, 2])))),
    "take_flat": Case(lambda x: np.take(x, [[5, 0], [1, 1]]), [(2, 3)],
                      torch=_t(lambda t, x: t.take(x, t.tensor([[5, 0], [1, 1]])))),
    "method_take": Case(lambda x: x.take([1, 0], axis=0), [(2, 3)],
                        torch=_t(lambda t, x: t.index_select(x, 0, t.tensor([1, 0])))),
    "take_along_axis": Case(lambda x: np.take_along_axis(x, _IDX, axis=1), [(2, 4)],
                            torch=_t(lambda t, x: t.take_along_dim(x, _tidx(t), 1))),
    "delete": Case(lambda x: np.delete(x, [0, 2], axis=1), [(2, 4)]),
    "delete_flat": Case(lambda x: np.delete(x, slice(1, None, 2)), [(2, 3)]),
    "compress": Case(lambda x: np.compress([True, False, True], x, axis=-1), [(2, 3)]),
    "method_compress": Case(lambda x: x.compress([False, True], axis=0), [(2, 3)]),
    "extract": Case(lambda x: np.extract(onp.arange(6).reshape(2, 3) % 2 == 0, x), [(2, 3)]),
    "insert": Case(lambda x, v: np.insert(x, 1, v, axis=0), [(2, 3), (3,)]),
    "insert_many": Case(lambda x: np.insert(x, [0, 2, 2], [1.5, -2.0, 3.0]), [(2, 3)]),
    "insert_column": Case(lambda x, v: np.insert(x, [1], v, axis=1), [(2, 3), (2, 1)]),
    "meshgrid": Case(lambda x, y: (lambda a, b: a * b)(*np.meshgrid(x, y)), [(3,), (2,)]),
    "meshgrid_ij": Case(lambda x, y: (lambda a, b: a + 2 * b)(*np.meshgrid(x, y, indexing="ij",
                                                                           sparse=True)),
                        [(3,), (2,)]),
    "broadcast_arrays": Case(lambda x, y: (lambda a, b: a * b)(*np.broadcast_arrays(x, y)),
                             [(2, 1), (3,)]),
    "unstack": Case(lambda x: _pieces(np.unstack(x, axis=1)), [(2, 3)],
                    torch=_t(lambda t, x: _tpieces(t, t.unbind(x, 1)))),
    "matrix_transpose": Case(lambda x: np.matrix_transpose(x), [(2, 3, 4)],
                             torch=_t(lambda t, x: x.mT)),
    "diag": Case(lambda x: np.diag(x, 1), [(3, 4)], torch=_t(lambda t, x: t.diag(x, 1))),
    "diag_vector": Case(lambda x: np.diag(x, -1), [(3,)], torch=_t(lambda t, x: t.diag(x, -1))),
    "diagflat": Case(lambda x: np.diagflat(x, 1), [(2, 2)], torch=_t(lambda t, x: t.diagflat(x, 1))),
    "make_diagonal": Case(lambda x: np.make_diagonal(x, axis1=-1, axis2=-2), [(2, 3)],
                          torch=_t(lambda t, x: t.diag_embed(x))),
    "make_diagonal_offset": Case(lambda x: np.make_diagonal(x, 1, 0, 2), [(2, 3)],
                                 torch=_t(lambda t, x: t.diag_embed(x, 1, 0, 2))),
    "sort": Case(lambda x: np.sort(x, axis=0), [(4, 3)], torch=_t(lambda t, x: t.sort(x, 0).values)),
    "sort_last": Case(lambda x: np.sort(x), [(2, 3, 4)], torch=_t(lambda t, x: t.sort(x, -1).values)),
    "sort_flat": Case(lambda x: np.sort(x, axis=None), [(2, 3)],
                      torch=_t(lambda t, x: t.sort(x.flatten()).values)),
    "partition": Case(lambda x: np.partition(x, 2, axis=-1), [(3, 5)]),
    "partition_axis0": Case(lambda x: np.partition(x, (0, 3), axis=0), [(5, 2)]),
    "pad": Case(lambda x: np.pad(x, ((1, 2), (0, 1)), constant_values=0.5), [(2, 3)],
                torch=_pad(lambda F, x: F.pad(x, (0, 1, 1, 2), value=0.5))),
    "pad_pairs": Case(lambda x: np.pad(x, 1, constant_values=((1.0, 2.0), (3.0, 4.0))), [(2, 3)]),
    "pad_tensor_constant": Case(lambda x, c: np.pad(x, (2, 1), constant_values=c), [(2, 3), ()]),
    "pad_reflect": Case(lambda x: np.pad(x, ((2, 1), (1, 1)), mode="reflect"), [(3, 4)],
                        torch=_pad(lambda F, x: F.pad(x[None], (1, 1, 2, 1), mode="reflect")[0])),
    "pad_edge": Case(lambda x: np.pad(x, 2, mode="edge"), [(2, 3)],
                     torch=_pad(lambda F, x: F.pad(x[None], (2, 2, 2, 2), mode="replicate")[0])),
    "pad_wrap": Case(lambda x: np.pad(x, (1, 2), mode="wrap"), [(2, 3)],
                     torch=_pad(lambda F, x: F.pad(x[None], (1, 2, 1, 2), mode="circular")[0])),
    "pad_symmetric": Case(lambda x: np.pad(x, ((0, 0), (3, 1)), mode="symmetric"), [(2, 3)]),
    # ---- masks -------------------------------------------------------------------------
    "tril": Case(lambda x: np.tril(x, -1), [(4, 4)], torch=_t(lambda t, x: t.tril(x, -1))),
    "tril_3d": Case(lambda x: np.tril(x, 1), [(2, 3, 4)], torch=_t(lambda t, x: t.tril(x, 1))),
    "triu": Case(lambda x: np.triu(x, 1), [(3, 4)], torch=_t(lambda t, x: t.triu(x, 1))),
    "triu_vector": Case(lambda x: np.triu(x), [(3,)]),
    "select": Case(lambda x, y: np.select([x > 0, y < 0.5], [x, y], default=x * y),
                   [(3, 4), (4,)]),
    # ---- shape only, permuted axes -----------------------------------------------------
    "atleast_1d": Case(lambda x: np.atleast_1d(x), [()], torch=_t(lambda t, x: t.atleast_1d(x))),
    "atleast_2d": Case(lambda x: np.atleast_2d(x), [(3,)], torch=_t(lambda t, x: t.atleast_2d(x))),
    "atleast_3d": Case(lambda x: np.atleast_3d(x), [(2, 3)], torch=_t(lambda t, x: t.atleast_3d(x))),
    "atleast_3d_vector": Case(lambda x: np.atleast_3d(x), [(3,)],
                              torch=_t(lambda t, x: t.atleast_3d(x))),
    "atleast_2d_many": Case(lambda x, y: np.atleast_2d(x, y)[0] * np.atleast_2d(x, y)[1],
                            [(), (3,)]),
    "ravel": Case(lambda x: np.ravel(x), [(2, 3, 4)], torch=_t(lambda t, x: t.ravel(x))),
    "ravel_F": Case(lambda x: np.ravel(x, order="F"), [(2, 3)],
                    torch=_t(lambda t, x: t.ravel(x.T))),
    "method_ravel": Case(lambda x: x.ravel(), [(2, 3)], torch=_t(lambda t, x: t.ravel(x))),
    "method_flatten": Case(lambda x: x.flatten(), [(2, 3)], torch=_t(lambda t, x: t.flatten(x))),
    "moveaxis": Case(lambda x: np.moveaxis(x, 0, -1), [(2, 3, 4)],
                     torch=_t(lambda t, x: t.movedim(x, 0, -1))),
    "moveaxis_many": Case(lambda x: np.moveaxis(x, (0, 1), (-1, 0)), [(2, 3, 4)],
                          torch=_t(lambda t, x: t.movedim(x, (0, 1), (-1, 0)))),
    "rollaxis": Case(lambda x: np.rollaxis(x, 2, 1), [(2, 3, 4)],
                     torch=_t(lambda t, x: t.movedim(x, 2, 1))),
    "swapaxes": Case(lambda x: np.swapaxes(x, 0, -1), [(2, 3, 4)],
                     torch=_t(lambda t, x: t.swapaxes(x, 0, -1))),
    "T": Case(lambda x: x.T, [(2, 3, 4)], torch=_t(lambda t, x: x.permute(2, 1, 0))),
    # ---- splitting ---------------------------------------------------------------------
    "split": Case(lambda x: _pieces(np.split(x, 2, axis=1)), [(3, 4)],
                  torch=_t(lambda t, x: _tpieces(t, t.split(x, 2, 1)))),
    "split_indices": Case(lambda x: _pieces(np.split(x, [1, 3], axis=-1)), [(2, 5)],
                          torch=_t(lambda t, x: _tpieces(t, t.split(x, [1, 2, 2], -1)))),
    "array_split": Case(lambda x: _pieces(np.array_split(x, 3, axis=0)), [(4, 2)],
                        torch=_t(lambda t, x: _tpieces(t, t.split(x, [2, 1, 1], 0)))),
    "hsplit": Case(lambda x: _pieces(np.hsplit(x, 2)), [(2, 4)]),
    "vsplit": Case(lambda x: _pieces(np.vsplit(x, [1])), [(3, 2)]),
    "dsplit": Case(lambda x: _pieces(np.dsplit(x, 2)), [(2, 2, 4)]),
    # ---- joining -----------------------------------------------------------------------
    "vstack": Case(lambda x, y: np.vstack([x, y]), [(3,), (2, 3)],
                   torch=_t(lambda t, x, y: t.vstack([x, y]))),
    "row_stack": Case(lambda x, y: _quiet(np.row_stack, (x, y)), [(2, 3), (1, 3)],
                      torch=_t(lambda t, x, y: t.vstack([x, y]))),
    "hstack": Case(lambda x, y: np.hstack([x, y]), [(2, 3), (2, 1)],
                   torch=_t(lambda t, x, y: t.hstack([x, y]))),
    "hstack_vectors": Case(lambda x, y: np.hstack((x, y)), [(3,), (2,)],
                           torch=_t(lambda t, x, y: t.hstack([x, y]))),
    "dstack": Case(lambda x, y: np.dstack([x, y]), [(2, 3), (2, 3, 2)],
                   torch=_t(lambda t, x, y: t.dstack([x, y]))),
    "column_stack": Case(lambda x, y: np.column_stack([x, y]), [(3,), (3, 2)],
                         torch=_t(lambda t, x, y: t.column_stack([x, y]))),
    "append": Case(lambda x, y: np.append(x, y), [(2, 3), (4,)],
                   torch=_t(lambda t, x, y: t.cat([x.flatten(), y]))),
    "append_axis": Case(lambda x, y: np.append(x, y, axis=0), [(2, 3), (1, 3)],
                        torch=_t(lambda t, x, y: t.cat([x, y], 0))),
    "concatenate_mixed": Case(lambda x: np.concatenate([x, onp.ones((1, 3), x.dtype), x], axis=0),
                              [(2, 3)]),
    "stack_mixed": Case(lambda x: np.stack([onp.ones(3, x.dtype), x], axis=-1), [(3,)]),
    "hstack_mixed": Case(lambda x: np.hstack([x, onp.arange(2.0, dtype=x.dtype)]), [(3,)]),
    "array": Case(lambda x, y: np.array([x, y, onp.ones(3, x.dtype)]), [(3,), (3,)],
                  torch=_t(lambda t, x, y: t.stack([x, y, t.ones(3, dtype=t.float64)]))),
    "mean_of_list": Case(lambda x, y: np.mean([x, y], axis=0), [(3,), (3,)]),
    "r_": Case(lambda x, y: np.r_[x, onp.ones(2, x.dtype), y, 2.5], [(3,), (2,)]),
    "r_directive": Case(lambda x, y: np.r_["-1", x, y], [(2, 3), (2, 2)]),
    "r_ndmin": Case(lambda x, y: np.r_["0,2,0", x, y], [(3,), (2,)]),
    "c_": Case(lambda x, y: np.c_[x, onp.ones(3, x.dtype), y], [(3,), (3, 2)]),
    # ---- differences and ranges ----------------------------------------------------------
    "diff": Case(lambda x: np.diff(x, axis=0), [(4, 3)], torch=_t(lambda t, x: t.diff(x, dim=0))),
    "diff_n2": Case(lambda x: np.diff(x, 2), [(2, 5)], torch=_t(lambda t, x: t.diff(x, 2))),
    "diff_ends": Case(lambda x, y: np.diff(x, prepend=y, append=y * 0.5), [(2, 3), (2, 1)]),
    "gradient": Case(lambda x: np.gradient(x), [(5,)]),
    "gradient_axes": Case(lambda x: (lambda a, b: a * b)(*np.gradient(x, 0.5, axis=(0, -1))),
                          [(3, 2, 4)]),
    "gradient_edge2": Case(lambda x: np.gradient(x, axis=1, edge_order=2), [(2, 4)]),
    "gradient_coords": Case(lambda x: np.gradient(x, onp.array([0.0, 1.0, 3.0, 3.5], x.dtype), edge_order=2),
                            [(4,)]),
    "full": Case(lambda c: np.full((2, 3), c), [()]),
    "full_rows": Case(lambda c: np.full([2, 3], c, dtype=c.dtype), [(3,)]),
    "linspace": Case(lambda a, b: np.linspace(a, b, 5), [(), ()]),
    "linspace_arrays": Case(lambda a, b: np.linspace(a, b, 4, axis=-1), [(2,), (3, 2)]),
    "linspace_open": Case(lambda a, b: np.linspace(a, b, 3, endpoint=False), [(), (2,)]),
    "linspace_one": Case(lambda a, b: np.linspace(a, b, 1), [(), ()]),
    "linspace_step": Case(lambda a, b: (lambda y, s: y * s)(*np.linspace(a, b, 4, retstep=True)),
                          [(), ()]),
}

test_shapes = parametrize_cases(CASES)


def test_every_exposed_function_has_a_case():
    """Each function shapes.py exposes is reached by a case (named after it)."""
    missing = []
    for f in set(shapes.EXPOSED) - set(shapes.CONSTANTS):   # constants: tested below
        key = f"method_{f[7:]}" if f.startswith("Tensor.") else f
        if not any(k == key or k.startswith(key + "_") for k in CASES):
            missing.append(f)
    assert shapes.EXPOSED and not missing, missing


@pytest.mark.parametrize("name", [f for f in shapes.EXPOSED if not f.startswith("Tensor.")])
def test_numpy_on_tensors_dispatches(name):
    """Plain numpy reaches the front on Tensors (NEP 18), fastgrad.numpy swaps it in."""
    f = getattr(onp, name)
    assert f in _tensor.FUNCTIONS
    assert name in np.DIFFERENTIABLE and getattr(np, name) is not f


def test_plain_numpy_on_tensors_records():
    t = Tensor(onp.arange(6.0).reshape(2, 3), requires_grad=True)
    out = onp.sort(onp.flip(t, 1), axis=1) * onp.arange(3.0)
    assert isinstance(out, Tensor)
    out.sum().backward()
    onp.testing.assert_array_equal(t.grad, onp.tile(onp.arange(3.0), (2, 1)))


def test_split_returns_a_list_of_tensors_and_gradients_add_up():
    t = Tensor(onp.arange(12.0).reshape(3, 4), requires_grad=True)
    pieces = np.array_split(t, 3, axis=1)
    assert isinstance(pieces, list) and [p.shape for p in pieces] == [(3, 2), (3, 1), (3, 1)]
    assert all(isinstance(p, Tensor) for p in pieces)
    (pieces[0].sum() + 2 * pieces[2].sum()).backward()
    onp.testing.assert_array_equal(t.grad, onp.array([[1.0, 1, 0, 2]] * 3))


def test_repeated_positions_add_their_gradients():
    t = Tensor(onp.array([1.0, 2.0, 3.0]), requires_grad=True)
    np.sum(np.take(t, [0, 0, 2, 0]) * onp.array([1.0, 2.0, 3.0, 4.0])).backward()
    onp.testing.assert_array_equal(t.grad, [7.0, 0.0, 3.0])


def test_sort_gradient_follows_the_permutation():
    x = onp.array([[3.0, 1.0, 2.0], [0.5, -1.0, 4.0]])
    t = Tensor(x, requires_grad=True)
    w = onp.array([1.0, 10.0, 100.0])
    (np.sort(t, axis=1) * w).sum().backward()
    expected = onp.empty_like(x)
    onp.put_along_axis(expected, onp.argsort(x, axis=1), onp.broadcast_to(w, x.shape), axis=1)
    onp.testing.assert_array_equal(t.grad, expected)


def test_make_diagonal_inverts_diagonal():
    rng = onp.random.default_rng(0)
    for shape, offset, a1, a2 in [((4,), 0, -1, -2), ((3, 4), 0, -1, -2), ((2, 3), 2, 0, 1),
                                  ((2, 3), -1, 1, 0), ((2, 3, 2), 1, 3, 0)]:
        d = rng.normal(size=shape)
        a = np.make_diagonal(d, offset, a1, a2)
        assert type(a) is onp.ndarray
        onp.testing.assert_array_equal(onp.diagonal(a, offset, a1, a2), d)
        assert onp.count_nonzero(a) == d.size


def test_functions_without_a_derivative_return_constants():
    t = Tensor(onp.ones((2, 3)), requires_grad=True)
    for f in (lambda a: np.full_like(a, 7.0), np.zeros_like, np.ones_like):
        out = f(t)
        assert type(out) is onp.ndarray and out.shape == (2, 3)
    onp.testing.assert_array_equal(onp.full_like(t, 2.0), onp.full((2, 3), 2.0))
    assert type(np.linspace(t[0, 0], 5.0, 3, dtype=int)) is onp.ndarray
    assert type(np.full(2, t[0, 0], dtype=int)) is onp.ndarray


def test_numpy_array_of_tensors_requiring_grad_raises():
    """Plain numpy.array cannot take a Tensor's data silently; fastgrad.numpy.array can."""
    t = Tensor(onp.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match="requires grad"):
        onp.array([t, t])
    with pytest.raises(TypeError, match="requires grad"):
        onp.asarray(t)
    assert isinstance(np.array([t, t]), Tensor)


def test_r_with_ranges():
    """Slices become numpy's ranges (int64 or float64, as in numpy: float32 promotes)."""
    from fastgrad.test_util import check_grads
    fn = lambda x: np.r_[x, 1:4, 0:1:3j] * 1.5
    x = onp.array([0.3, -1.2])
    onp.testing.assert_array_equal(fn(Tensor(x, requires_grad=True)).data, fn(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_grads(fn, modes=["fwd", "rev"], order=2)(x)


def test_r_c_without_tensors_are_numpys():
    assert np.r_[1:4, 7] .tolist() == [1, 2, 3, 7]
    onp.testing.assert_array_equal(np.c_[onp.ones(2), onp.zeros(2)], onp.c_[onp.ones(2), onp.zeros(2)])


def test_r_c_bad_directives():
    t = Tensor(onp.ones(3), requires_grad=True)
    with pytest.raises(NotImplementedError, match="matrix directive 'r'"):
        np.r_["r", t, t]
    with pytest.raises(ValueError, match="first entry"):
        np.r_[t, "0"]
    with pytest.raises(ValueError, match="unknown special directive"):
        np.r_["x", t]


_OURS = {"dtype and casting", "not supported", "out= is not supported",
         "spacings that require grad"}     # refusals of fastgrad's own


def _t23():
    return Tensor(onp.arange(6.0).reshape(2, 3), requires_grad=True)


@pytest.mark.parametrize("call, error, match", [
    (lambda t: np.flip(t, axis=3), onp.exceptions.AxisError, "axis 3 is out of bounds"),
    (lambda t: np.moveaxis(t, 5, 0), onp.exceptions.AxisError, "out of bounds"),
    (lambda t: np.rollaxis(t, -3), onp.exceptions.AxisError, "out of bounds"),
    (lambda t: np.sort(t, axis=2), onp.exceptions.AxisError, "out of bounds"),
    (lambda t: np.diff(t, axis=-3), onp.exceptions.AxisError, "out of bounds"),
    (lambda t: np.split(t, 2, axis=1), ValueError, "does not result in an equal division"),
    (lambda t: np.hsplit(t, 4), ValueError, "does not result in an equal division"),
    (lambda t: np.dsplit(t, 2), ValueError, "dsplit only works on arrays of 3 or more"),
    (lambda t: np.diag(t[None]), ValueError, "Input must be 1- or 2-d"),
    (lambda t: np.diff(t[0, 0]), ValueError, "at least one dimensional"),
    (lambda t: np.diff(t, -1), ValueError, "order must be non-negative"),
    (lambda t: np.pad(t, 1, mode="mean"), NotImplementedError, "mode 'mean'"),
    (lambda t: np.pad(t, 1, mode="reflect", reflect_type="odd"), NotImplementedError, "odd"),
    (lambda t: np.pad(t, ((1, 2, 3),)), ValueError, "could not be broadcast|operands could not"),
    (lambda t: np.pad(t, 1, stat_length=2), ValueError, "unsupported keyword arguments"),
    (lambda t: np.select([t > 0], [t, t]), ValueError, "same length"),
    (lambda t: np.select([], []), ValueError, "empty condition list"),
    (lambda t: np.select([t.data], [t]), TypeError, "should be boolean ndarray"),
    (lambda t: np.ravel(t, order="K"), NotImplementedError, "order 'K'"),
    (lambda t: np.linspace(t[0, 0], 1.0, -1), ValueError, "must be non-negative"),
    (lambda t: np.linspace(t[0, 0], 1.0, 3, dtype=onp.float32), NotImplementedError, "dtype"),
    (lambda t: np.linspace(t[0, 0], 1.0, 3, device="gpu"), TypeError, "not supported"),
    (lambda t: np.full(3, t[0, 0], dtype=onp.float16), NotImplementedError, "dtype"),
    (lambda t: np.full((2, 2), t[0]), ValueError, "broadcast"),
    (lambda t: np.make_diagonal(t, axis1=1, axis2=-2), ValueError, "cannot be the same"),
    (lambda t: np.take(t, 9), IndexError, "out of bounds"),
    (lambda t: np.vstack([t, onp.ones(2)]), ValueError, "cannot join shapes"),
    (lambda t: np.vstack([t, t], dtype=onp.float32), TypeError, "dtype and casting"),
    (lambda t: np.gradient(t, edge_order=3), ValueError, "greater than 2"),
    (lambda t: np.gradient(t[:, :1]), ValueError, "too small"),
    (lambda t: np.gradient(t, [1.0, 2.0], axis=1), ValueError, "must match"),
    (lambda t: np.gradient(t, [1.0, 2.0]), TypeError, "invalid number of arguments"),
    (lambda t: np.take(t, [0], out=onp.zeros(1)), TypeError, "out= is not supported"),
    (lambda t: np.take(t, [0], 0, onp.zeros((1, 3))), TypeError, "out= is not supported"),
    (lambda t: np.gradient(t, t[0, 0]), TypeError, "spacings that require grad"),
    (lambda t: np.take(t, t), TypeError, "Cannot cast"),
    (lambda t: np.tril(t[0, 0]), TypeError, r"tri\(\)"),
])
def test_bad_inputs_raise_numpys_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(_t23())
    # the same error as numpy's on the plain values (fastgrad's own refusals aside)
    if error is not NotImplementedError and match not in _OURS:
        with pytest.raises(error):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                call(_PlainT(_t23().data))


class _PlainT(onp.ndarray):
    """The plain array behind a test Tensor (``.data`` gives itself) for numpy's errors."""
    def __new__(cls, a):
        return onp.asarray(a).view(cls)

    @property
    def data(self):
        return onp.asarray(self)


def test_float32_inputs_stay_float32_with_scalars():
    t = Tensor(onp.ones((2, 3), dtype=onp.float32), requires_grad=True)
    assert np.pad(t, 1, constant_values=0.5).dtype == onp.float32
    assert np.diag(t[0]).dtype == onp.float32
    assert np.r_[t[0], 2.5].dtype == onp.float32
    assert np.linspace(t[0, 0], 2.0, 3).dtype == onp.float32


def test_inputs_for_cases_are_distinct():
    # sort/partition cases need distinct values (no ties) for their gradients to exist
    for name in ("sort", "sort_last", "sort_flat", "partition", "partition_axis0"):
        x = inputs(CASES[name])[0]
        assert onp.unique(x).size == x.size, name
    assert CASES["sort"].domain == ANY
