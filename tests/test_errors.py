"""Errors in the user's terms: each names the operation, what was expected and what arrived."""

from __future__ import annotations

import numpy as np
import pytest

import tidu
from tidu.errors import GradientError, ShapeError


def ones(*shape):
    return tidu.ones(*shape, requires_grad=True)


def test_matmul_shape_mismatch_names_both_shapes_and_the_op():
    with pytest.raises(ShapeError) as e:
        ones(3, 4) @ ones(5, 2)
    msg = str(e.value)
    assert "matmul" in msg and "(3, 4)" in msg and "(5, 2)" in msg
    assert "(4)" in msg and "(5)" in msg  # the two axes that must agree


@pytest.mark.parametrize(
    "a, b, batch",
    [((2, 3, 4), (3, 4, 5), ("(2,)", "(3,)")), ((4, 1, 2, 3), (2, 3, 3, 1), ("(4, 1)", "(2, 3)"))],
)
def test_matmul_batch_mismatch(a, b, batch):
    with pytest.raises(ShapeError, match="matmul") as e:
        tidu.matmul(ones(*a), ones(*b))
    assert all(s in str(e.value) for s in (str(a), str(b), *batch))


def test_matmul_and_dot_reject_scalars_and_3d():
    with pytest.raises(ShapeError, match="matmul.*at least 1 dimension"):
        tidu.matmul(tidu.tensor(2.0), ones(3))
    with pytest.raises(ShapeError, match="dot.*3-D"):
        tidu.dot(ones(2, 2, 2), ones(2))


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "pow"])
def test_non_broadcastable_shapes_name_the_op_and_both_shapes(op):
    with pytest.raises(ShapeError) as e:
        getattr(tidu, op)(ones(3, 4), ones(5, 2))
    msg = str(e.value)
    assert msg.startswith(op) and "(3, 4)" in msg and "(5, 2)" in msg


def test_operator_with_a_numpy_array_of_the_wrong_shape():
    with pytest.raises(ShapeError, match=r"mul.*\(3, 4\).*\(5,\)"):
        ones(3, 4) * np.ones(5)
    with pytest.raises(ShapeError, match="broadcast_to.*cannot broadcast shape"):
        tidu.broadcast_to(ones(3, 4), (2, 5))


def test_backward_on_a_non_scalar_without_an_output_gradient_says_so():
    y = ones(3) * 2
    with pytest.raises(GradientError, match=r"shape \(3,\) needs an output gradient.*\.sum\(\)"):
        y.backward()


def test_output_gradient_of_the_wrong_shape():
    with pytest.raises(ShapeError, match=r"output gradient has shape \(2,\).*\(3,\)"):
        (ones(3) * 2).backward(np.ones(2))


def test_integer_tensor_cannot_require_grad_and_says_why():
    with pytest.raises(GradientError, match="int64.*rate of change.*dtype='float32'"):
        tidu.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(GradientError, match="floating-point"):
        tidu.arange(3).requires_grad_()
    assert isinstance(GradientError("x"), RuntimeError)  # catchable as PyTorch's error class


def test_backward_on_a_tensor_without_graph():
    with pytest.raises(GradientError, match="requires_grad=True"):
        tidu.ones(3).sum().backward()
    with tidu.no_grad():
        y = (ones(3) * 2).sum()
    with pytest.raises(GradientError, match="no_grad"):
        y.backward()
    with pytest.raises(GradientError, match="grad\\(\\)"):
        tidu.grad(ones(3).sum(), tidu.ones(3))


def test_reshape_to_an_impossible_shape():
    with pytest.raises(ShapeError) as e:
        ones(3, 4).reshape(5, 3)
    msg = str(e.value)
    assert "reshape" in msg and "(3, 4)" in msg and "(5, 3)" in msg and "12 elements" in msg


@pytest.mark.parametrize(
    "call, op",
    [
        (lambda x: x.sum(axis=2), "sum"),
        (lambda x: x.mean(axis=-3), "mean"),
        (lambda x: x.max(axis=(0, 5)), "max"),
        (lambda x: x.min(axis=9), "min"),
        (lambda x: x.var(axis=2), "var"),
        (lambda x: tidu.logsumexp(x, 4), "logsumexp"),
        (lambda x: x.softmax(axis=3), "softmax"),
        (lambda x: x.log_softmax(axis=-3), "log_softmax"),
        (lambda x: x.transpose(0, 2), "transpose"),
        (lambda x: x.permute(0, 2), "permute"),
        (lambda x: x.unsqueeze(3), "unsqueeze"),
        (lambda x: x.squeeze(2), "squeeze"),
        (lambda x: tidu.concatenate([x, x], axis=2), "concatenate"),
        (lambda x: tidu.stack([x, x], axis=-4), "stack"),
        (lambda x: tidu.split(x, 2, axis=2), "split"),
    ],
)
def test_bad_axis_names_the_op_the_axis_and_the_rank(call, op):
    with pytest.raises(ShapeError) as e:
        call(ones(2, 4))
    msg = str(e.value)
    assert msg.startswith(op + ":") and "out of range" in msg and "2 dimensions" in msg


def test_other_bad_axes():
    with pytest.raises(ShapeError, match="names the same axis twice"):
        ones(2, 3).sum(axis=(1, -1))
    with pytest.raises(TypeError, match="axis must be an int.*float"):
        ones(2, 3).sum(axis=1.5)
    with pytest.raises(ShapeError, match=r"permute: \(0, 0\) is not a permutation"):
        ones(2, 3).permute(0, 0)
    with pytest.raises(ShapeError, match="squeeze: axis 0 of shape .* has length 2, not 1"):
        ones(2, 3).squeeze(0)


def test_concatenate_and_stack_mismatch():
    with pytest.raises(ShapeError) as e:
        tidu.concatenate([ones(3, 4), ones(2, 5)])
    assert "concatenate" in str(e.value) and "(3, 4)" in str(e.value) and "(2, 5)" in str(e.value)
    with pytest.raises(ShapeError, match="concatenate.*except axis 1"):
        tidu.concatenate([ones(3, 4), ones(2, 4)], axis=1)
    with pytest.raises(ShapeError, match="concatenate"):
        tidu.concatenate([ones(3, 4), ones(3)])
    with pytest.raises(ShapeError, match="concatenate.*0-dimensional"):
        tidu.concatenate([tidu.tensor(1.0), tidu.tensor(2.0)])
    with pytest.raises(ValueError, match="at least one"):
        tidu.concatenate([])
    with pytest.raises(ShapeError, match=r"stack: all tensors need the same shape.*\(2, 4\)"):
        tidu.stack([ones(3, 4), ones(2, 4)])


def test_split_and_pad_arguments():
    with pytest.raises(ShapeError, match="split: axis 0 of length 5 does not divide into 2"):
        tidu.split(ones(5), 2)
    with pytest.raises(ValueError, match="split: sections must be a positive int"):
        tidu.split(ones(4), 0)
    with pytest.raises(ShapeError, match=r"pad: pad_width .* shape \(3,\)"):
        tidu.pad(ones(3), ((1, 1), (1, 1)))
    assert tidu.pad(ones(3), (-1, 0)).shape == (2,)  # negative widths crop, as in PyTorch
    with pytest.raises(ShapeError, match=r"pad: widths \(-5, 0\) crop 5 elements from axis 0 "
                                         r"of length 3"):
        tidu.pad(ones(3), (-5, 0))


def test_backward_through_a_freed_graph():
    x = ones(2)
    h = x.exp()
    y1, y2 = h.sum(), (h * 2).sum()
    y1.backward()  # frees h's node, which y2 also needs
    with pytest.raises(GradientError, match="second time") as e:
        y2.backward()
    assert "Exp" in str(e.value) and "retain_graph=True" in str(e.value)


def test_item_and_truth_value_of_a_multi_element_tensor():
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one element.*\(2,\)"):
        ones(2).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(ones(2))


def test_gradcheck_requires_a_tensor_output():
    with pytest.raises(TypeError, match="fn must return a Tensor"):
        tidu.gradcheck(lambda t: 1.0, [np.ones(2)])


def test_a_custom_function_returning_a_wrongly_shaped_gradient_is_named():
    class Bad(tidu.Function):
        def forward(self, x):
            return x.sum(axis=0)

        def backward(self, grad):
            return np.ones((7,))  # not the input's shape (2, 3), nor a broadcast of it

    with pytest.raises(ShapeError, match=r"Bad: .*\(7,\).*\(2, 3\)"):
        Bad.apply(ones(2, 3)).sum().backward()
