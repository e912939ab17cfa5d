"""autograd's deprecated ``util.quick_grad_check``, for code that still calls it."""
import warnings

from .test_util import check_grads

__all__ = ["quick_grad_check"]


def quick_grad_check(fun, arg0, extra_args=(), kwargs=None, verbose=True, eps=None,
                     rtol=None, atol=None, rs=None):
    """Deprecated (as in autograd): ``check_grads(fun, modes=["rev"])(arg0, *extra_args)``.

    Checks the first derivative of ``fun`` with respect to ``arg0`` in reverse mode.
    The tolerance arguments are accepted and ignored, as autograd ignores them; use
    ``fastgrad.test_util.check_grads`` instead.
    """
    warnings.warn("quick_grad_check is deprecated; use "
                  "fastgrad.test_util.check_grads(fun, modes=['rev'])(*args)",
                  DeprecationWarning, stacklevel=2)
    check_grads(fun, modes=["rev"], order=1)(arg0, *extra_args, **(kwargs or {}))
