"""The FFT rows (``fastgrad/ops/fft.py``): one case per transform and argument pattern
(``n``/``s`` smaller and bigger, ``axis``/``axes``, each ``norm``, odd lengths, complex
input). A complex result is compared as its real and imaginary parts stacked."""
import numpy as onp
import pytest

import fastgrad.numpy as np
from fastgrad import Tensor, grad
from opcheck import ANY, COMPLEX, Case, parametrize_cases


def _ri(y):
    return np.stack([np.real(y), np.imag(y)])


def _torch():
    return __import__("torch")


def _tri(y):
    return _torch().stack([y.real, y.imag])


def _c(name, shapes, domain=ANY, complex_out=True, rows=None, **kw):
    """A case for numpy.fft.<name>(x, **kw), checked against torch.fft.<name>."""
    tkw = {{"axis": "dim", "axes": "dim"}.get(k, k): v for k, v in kw.items()}
    if name in ("fftshift", "ifftshift"):
        tkw = {"dim": kw["axes"]} if "axes" in kw else {}
    if "s" in tkw and name in ("fft", "ifft", "rfft", "irfft"):
        tkw["n"] = tkw.pop("s")
    fn = (lambda x: _ri(getattr(np.fft, name)(x, **kw))) if complex_out else \
        (lambda x: getattr(np.fft, name)(x, **kw))
    tf = (lambda x: _tri(getattr(_torch().fft, name)(x, **tkw))) if complex_out else \
        (lambda x: getattr(_torch().fft, name)(x, **tkw))
    return Case(fn, shapes, domain, tf, rows=rows or [name],
                call=lambda f, x: f(x, **kw))


S3 = [(5, 4, 5)]
CASES = {
    "fft": _c("fft", [(3, 5)]),
    "fft_complex": _c("fft", [(3, 5)], COMPLEX),
    "fft_n_smaller": _c("fft", [(3, 5)], n=3),
    "fft_n_bigger": _c("fft", [(3, 5)], COMPLEX, n=7),
    "fft_axis0_ortho": _c("fft", [(4, 3)], axis=0, norm="ortho"),
    "fft_forward": _c("fft", [(3, 4)], COMPLEX, norm="forward"),
    "ifft": _c("ifft", [(3, 5)], COMPLEX),
    "ifft_n": _c("ifft", [(3, 5)], n=7, axis=0),
    "fft2": _c("fft2", [(3, 4)]),
    "fft2_s": _c("fft2", S3, COMPLEX, s=[7, 3], axes=[0, 2]),
    "ifft2": _c("ifft2", [(2, 3, 4)], COMPLEX, norm="ortho"),
    "ifft2_s": _c("ifft2", S3, s=[7, 3], axes=[0, 2]),
    "fftn": _c("fftn", [(3, 2, 4)], COMPLEX),
    "fftn_s": _c("fftn", S3, s=[7, 3], axes=[0, 2]),
    "ifftn": _c("ifftn", [(3, 4)]),
    "ifftn_s": _c("ifftn", S3, COMPLEX, s=[7, 3], axes=[2, 0], norm="forward"),
    "rfft": _c("rfft", [(3, 4)]),
    "rfft_odd": _c("rfft", [(3, 5)]),
    "rfft_n_smaller": _c("rfft", [(3, 6)], n=4),
    "rfft_n_bigger_odd": _c("rfft", [(3, 4)], n=7, norm="ortho"),
    "rfft_axis0": _c("rfft", [(4, 3)], axis=0, norm="forward"),
    "rfft2": _c("rfft2", [(3, 4)]),
    "rfft2_s": _c("rfft2", S3, s=[7, 3], axes=[0, 2]),
    "rfftn": _c("rfftn", [(4, 2, 4)]),
    "rfftn_odd": _c("rfftn", [(3, 3, 5)], norm="ortho"),
    "rfftn_axes": _c("rfftn", [(4, 3, 4)], axes=(0, 2)),
    "irfft": _c("irfft", [(3, 4)], COMPLEX, complex_out=False),
    "irfft_n_odd": _c("irfft", [(3, 4)], COMPLEX, complex_out=False, n=7),
    "irfft_n_smaller": _c("irfft", [(3, 5)], COMPLEX, complex_out=False, n=4, norm="ortho"),
    "irfft_axis0": _c("irfft", [(4, 3)], COMPLEX, complex_out=False, axis=0,
                      norm="forward"),
    "irfft2": _c("irfft2", [(3, 4)], COMPLEX, complex_out=False),
    "irfft2_s": _c("irfft2", S3, COMPLEX, complex_out=False, s=[7, 3], axes=[0, 2]),
    "irfftn": _c("irfftn", [(3, 4, 3)], COMPLEX, complex_out=False),
    "irfftn_s_odd": _c("irfftn", S3, COMPLEX, complex_out=False, s=[4, 5], axes=[2, 0]),
    "fftshift": _c("fftshift", [(3, 4)], complex_out=False),
    "fftshift_axes": _c("fftshift", [(3, 5)], COMPLEX, axes=1),
    "ifftshift": _c("ifftshift", [(5, 4)], complex_out=False),
    "ifftshift_axes": _c("ifftshift", [(3, 5, 2)], complex_out=False, axes=(0, 1)),
    # a composite, as autograd's test_rfftn_subset
    "rfftn_subset": Case(lambda x: _ri(np.fft.rfftn(x)[(0, 1, 0), (3, 3, 2)]), [(4, 4, 4)],
                         ANY, lambda x: _tri(_torch().fft.rfftn(x)[(0, 1, 0), (3, 3, 2)])),
}

test_fft = parametrize_cases(CASES, checks=("value", "derivatives", "torch", "float32",
                                            "complex64"))


def test_float32_and_complex64_are_kept():
    x = Tensor(onp.ones((2, 4), onp.float32), requires_grad=True)
    y = np.fft.rfft(x)
    assert y.dtype == onp.complex64
    np.sum(np.abs(y)).backward()
    assert x.grad.dtype == onp.float32
    z = Tensor(onp.ones((2, 4), onp.complex64), requires_grad=True)
    assert np.fft.irfft(z).dtype == onp.float32 and np.fft.ifft2(z).dtype == onp.complex64


def test_the_gradient_of_a_real_loss_through_an_fft():
    # |fft(x)|^2 summed is n * |x|^2 summed (Parseval): its gradient is 2 n x
    x = onp.random.default_rng(0).normal(size=6)
    g = grad(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2))(x)
    onp.testing.assert_allclose(g, 2 * 6 * x, rtol=1e-12)
    g = grad(lambda x: np.sum(np.abs(np.fft.fft(x, norm="ortho")) ** 2))(x + 1j * x[::-1])
    onp.testing.assert_allclose(g, 2 * onp.conj(x + 1j * x[::-1]), rtol=1e-12)


def test_repeated_axes_are_not_differentiated():
    x = Tensor(onp.ones((4, 4)), requires_grad=True)
    y = np.fft.fftn(x, axes=(0, 0))
    onp.testing.assert_array_equal(y.data, onp.fft.fftn(onp.ones((4, 4)), axes=(0, 0)))
    with pytest.raises(NotImplementedError, match="repeated axes"):
        np.sum(np.real(y)).backward()


def test_out_is_refused_and_bad_arguments_raise_as_numpy():
    x = Tensor(onp.ones(4), requires_grad=True)
    with pytest.raises(TypeError, match=r"numpy.fft.fft: out= is not supported"):
        onp.fft.fft(x, out=onp.empty(4, complex))
    with pytest.raises(ValueError):
        np.fft.fft(x, n=0)
    with pytest.raises(ValueError):
        np.fft.rfft(x, norm="sideways")


def test_plain_arrays_get_numpy():
    a = onp.arange(6.0)
    assert type(np.fft.fft(a)) is onp.ndarray
    onp.testing.assert_array_equal(np.fft.irfftn(np.fft.rfftn(a)), onp.fft.irfftn(onp.fft.rfftn(a)))
