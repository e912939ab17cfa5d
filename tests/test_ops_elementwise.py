"""The elementwise rows (``fastgrad/ops/elementwise.py``): one case each."""
import numpy as onp

import fastgrad.numpy as np
from opcheck import ANY, POS, Case, parametrize_cases


def _t(name):
    return lambda *a: getattr(__import__("torch"), name)(*a)


CASES = {
    "sinh": Case(lambda x: np.sinh(x), [(2, 3)], ANY, _t("sinh"), rows=["sinh"]),
    "cosh": Case(lambda x: np.cosh(x), [(2, 3)], ANY, _t("cosh"), rows=["cosh"]),
    "tan": Case(lambda x: np.tan(x), [(2, 3)], ANY, _t("tan"), rows=["tan"]),
    "arctan": Case(lambda x: np.arctan(x), [(2, 3)], ANY, _t("arctan"), rows=["arctan"]),
    "log1p": Case(lambda x: np.log1p(x), [(2, 3)], POS, _t("log1p"), rows=["log1p"]),
    "expm1": Case(lambda x: np.expm1(x), [(2, 3)], ANY, _t("expm1"), rows=["expm1"]),
    "arctan2": Case(lambda y, x: np.arctan2(y, x), [(2, 3), (3,)], ANY, _t("arctan2"),
                    rows=["arctan2"]),
}

test_elementwise = parametrize_cases(CASES)


def test_functions_without_a_derivative_return_constants():
    from fastgrad import Tensor
    t = Tensor(onp.array([[0.3, 2.0], [1.5, -1.0]]), requires_grad=True)
    assert onp.argmax(t) == 1 and type(onp.argmax(t)) is not Tensor
    assert np.allclose(t, t.data) is True
    onp.testing.assert_array_equal(np.argsort(t, axis=1), onp.argsort(t.data, axis=1))
