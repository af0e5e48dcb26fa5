"""``tidu gradcheck``: every family of built-in operations against central differences.

Each row of :data:`OPS` is one operation on small float64 inputs drawn from its domain
(positive values for ``log``, values away from the kink for ``abs``, distinct values for
``sort``, well-conditioned matrices for ``linalg``), checked by :func:`tidu.gradcheck`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._common import HelpFormatter, UsageError

FAMILIES = ("elementwise", "activation", "reduce", "shape", "math", "nonlinearity", "scan",
            "sort", "index", "layout", "contract", "linalg")


@dataclass(frozen=True)
class OpCheck:
    """One row of the table: a family, a name, a function of Tensors and its inputs' domains."""

    family: str
    name: str
    fn: Callable
    domains: tuple


def _draw(domain: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Values from one of the named domains, float64."""
    if domain == "normal":
        return rng.standard_normal(shape)
    if domain == "away":  # either sign, |x| in [0.2, 1.5]: off the kink at 0
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 1.5, size=shape)
    if domain == "pos":  # [0.5, 2]: log, sqrt, denominators, pow bases
        return rng.uniform(0.5, 2.0, size=shape)
    if domain == "unit":  # inside (-1, 1): asin, atanh
        return rng.uniform(-0.9, 0.9, size=shape)
    if domain == "above1":  # [1.2, 3]: acosh
        return rng.uniform(1.2, 3.0, size=shape)
    if domain == "distinct":  # at least 0.3 apart: max, sort and friends without ties
        n = int(np.prod(shape))
        return ((rng.permutation(n) - n / 2) * 0.3 + rng.uniform(0, 0.05, n)).reshape(shape)
    if domain == "offgrid":  # >= 0.1 away from multiples of 0.5: hardtanh, relu6, ...
        half = rng.integers(-6, 6, size=shape) * 0.5
        return half + rng.uniform(0.1, 0.4, size=shape)
    raise ValueError(f"unknown input domain {domain!r}")  # pragma: no cover - table bug


def _spd(a):
    """A symmetric positive definite matrix from any square ``a``: a a^T + 3 I."""
    import tidu

    return a @ a.T + 3.0 * tidu.eye(a.shape[0], dtype="float64")


def _table() -> list[OpCheck]:
    import tidu
    from tidu import linalg as L

    idx = np.array([[0, 2, 1, 0], [2, 1, 0, 2]])
    mask = np.array([[True, False, True, False]] * 3)

    def op(family, name, fn, *domains):
        return OpCheck(family, name, fn, tuple(domains))

    s = (3, 4)
    return [
        op("elementwise", "add (broadcast)", lambda a, b: a + b, ("normal", s), ("normal", (4,))),
        op("elementwise", "mul", lambda a, b: a * b, ("normal", s), ("normal", s)),
        op("elementwise", "div", lambda a, b: a / b, ("normal", s), ("pos", s)),
        op("elementwise", "pow", lambda a, b: a ** b, ("pos", s), ("normal", s)),
        op("elementwise", "exp", tidu.exp, ("normal", s)),
        op("elementwise", "log", tidu.log, ("pos", s)),
        op("elementwise", "sqrt", tidu.sqrt, ("pos", s)),
        op("elementwise", "abs", tidu.abs, ("away", s)),
        op("elementwise", "maximum", tidu.maximum, ("distinct", s), ("distinct", s)),
        op("elementwise", "where", lambda a, b: tidu.where(a > 0, a, b), ("away", s),
           ("normal", s)),
        op("elementwise", "clip", lambda a: tidu.clip(a, -0.5, 0.5), ("offgrid", s)),
        op("activation", "sigmoid", tidu.sigmoid, ("normal", s)),
        op("activation", "tanh", tidu.tanh, ("normal", s)),
        op("activation", "relu", tidu.relu, ("away", s)),
        op("activation", "softplus", tidu.softplus, ("normal", s)),
        op("activation", "softmax", lambda a: tidu.softmax(a, -1), ("normal", s)),
        op("activation", "log_softmax", lambda a: tidu.log_softmax(a, -1), ("normal", s)),
        op("activation", "logsumexp", lambda a: tidu.logsumexp(a, 1), ("normal", s)),
        op("reduce", "sum", lambda a: tidu.sum(a, 0), ("normal", s)),
        op("reduce", "mean", lambda a: tidu.mean(a, 1, keepdims=True), ("normal", s)),
        op("reduce", "max", lambda a: tidu.max(a, 1), ("distinct", s)),
        op("reduce", "var", lambda a: tidu.var(a, 0), ("normal", s)),
        op("shape", "reshape", lambda a: tidu.reshape(a, (2, 6)) * a.reshape(2, 6),
           ("normal", s)),
        op("shape", "transpose", lambda a: a.T @ a, ("normal", s)),
        op("shape", "concatenate", lambda a, b: tidu.concatenate([a, b], 0) ** 2, ("normal", s),
           ("normal", (2, 4))),
        op("shape", "stack", lambda a, b: tidu.stack([a, b], 1) ** 2, ("normal", s),
           ("normal", s)),
        op("shape", "getitem", lambda a: a[1:, ::2] ** 2, ("normal", s)),
        op("shape", "pad", lambda a: tidu.pad(a, ((1, 0), (0, 2))) ** 2, ("normal", s)),
        op("math", "sin", tidu.sin, ("normal", s)),
        op("math", "tan", tidu.tan, ("unit", s)),
        op("math", "asin", tidu.asin, ("unit", s)),
        op("math", "acosh", tidu.acosh, ("above1", s)),
        op("math", "atan2", tidu.atan2, ("normal", s), ("pos", s)),
        op("math", "log1p", tidu.log1p, ("pos", s)),
        op("math", "erf", tidu.erf, ("normal", s)),
        op("math", "hypot", tidu.hypot, ("away", s), ("away", s)),
        op("math", "lerp", tidu.lerp, ("normal", s), ("normal", s), ("unit", s)),
        op("nonlinearity", "elu", tidu.elu, ("away", s)),
        op("nonlinearity", "selu", tidu.selu, ("away", s)),
        op("nonlinearity", "gelu", tidu.gelu, ("normal", s)),
        op("nonlinearity", "silu", tidu.silu, ("normal", s)),
        op("nonlinearity", "mish", tidu.mish, ("normal", s)),
        op("nonlinearity", "hardtanh", tidu.hardtanh, ("offgrid", s)),
        op("nonlinearity", "log_sigmoid", tidu.log_sigmoid, ("normal", s)),
        op("nonlinearity", "glu", lambda a: tidu.glu(a, -1), ("normal", s)),
        op("nonlinearity", "prelu", tidu.prelu, ("away", s), ("pos", (4,))),
        op("scan", "prod", lambda a: tidu.prod(a, 1), ("normal", s)),
        op("scan", "std", lambda a: tidu.std(a, 0, ddof=1), ("normal", s)),
        op("scan", "norm", lambda a: tidu.norm(a, axis=1), ("normal", s)),
        op("scan", "cumsum", lambda a: tidu.cumsum(a, 1), ("normal", s)),
        op("scan", "cumprod", lambda a: tidu.cumprod(a, 1), ("normal", s)),
        op("scan", "cummax", lambda a: tidu.cummax(a, 1).values, ("distinct", s)),
        op("scan", "logcumsumexp", lambda a: tidu.logcumsumexp(a, 0), ("normal", s)),
        op("sort", "sort", lambda a: tidu.sort(a, -1).values * a, ("distinct", s)),
        op("sort", "topk", lambda a: tidu.topk(a, 2).values, ("distinct", s)),
        op("sort", "median", lambda a: tidu.median(a, 1).values, ("distinct", s)),
        op("sort", "quantile", lambda a: tidu.quantile(a, [0.25, 0.6], 1), ("distinct", s)),
        op("index", "gather", lambda a: tidu.gather(a, 0, idx % 3), ("normal", s)),
        op("index", "scatter_add", lambda a, b: tidu.scatter_add(a, 0, idx % 3, b) * a,
           ("normal", s), ("normal", (2, 4))),
        op("index", "index_add", lambda a, b: tidu.index_add(a, 0, [2, 0, 2], b, alpha=2.0),
           ("normal", s), ("normal", s)),
        op("index", "masked_fill", lambda a: tidu.masked_fill(a, mask, 0.0) * a, ("normal", s)),
        op("index", "index_put", lambda a, v: tidu.index_put(a, ([0, 2], [1, 3]), v) * a,
           ("normal", s), ("normal", (2,))),
        op("layout", "tile", lambda a: tidu.tile(a, (2, 1)) ** 2, ("normal", s)),
        op("layout", "repeat_interleave", lambda a: tidu.repeat_interleave(a, 2, 0) ** 2,
           ("normal", s)),
        op("layout", "flip", lambda a: tidu.flip(a, 1) * a, ("normal", s)),
        op("layout", "roll", lambda a: tidu.roll(a, 1, 1) * a, ("normal", s)),
        op("layout", "tril", lambda a: tidu.tril(a) ** 2, ("normal", s)),
        op("layout", "diagonal", lambda a: tidu.diagonal(a) ** 2, ("normal", s)),
        op("layout", "pad (reflect)", lambda a: tidu.pad(a, ((1, 1), (2, 1)), mode="reflect")
           ** 2, ("normal", s)),
        op("contract", "einsum", lambda a, b: tidu.einsum("ij,kj->ik", a, b), ("normal", s),
           ("normal", (2, 4))),
        op("contract", "outer", tidu.outer, ("normal", (3,)), ("normal", (4,))),
        op("contract", "tensordot", lambda a, b: tidu.tensordot(a, b, 1), ("normal", s),
           ("normal", (4, 2))),
        op("contract", "trace", lambda a: tidu.trace(a @ a.T), ("normal", s)),
        op("contract", "matmul", tidu.matmul, ("normal", s), ("normal", (4, 2))),
        op("linalg", "inv", lambda a: L.inv(_spd(a)), ("normal", (3, 3))),
        op("linalg", "solve", lambda a, b: L.solve(_spd(a), b), ("normal", (3, 3)),
           ("normal", (3, 2))),
        op("linalg", "det", lambda a: L.det(_spd(a)), ("normal", (3, 3))),
        op("linalg", "slogdet", lambda a: L.slogdet(_spd(a)).logabsdet, ("normal", (3, 3))),
        op("linalg", "cholesky", lambda a: L.cholesky(_spd(a)), ("normal", (3, 3))),
        op("linalg", "qr", lambda a: L.qr(a).R, ("normal", (4, 3))),
        op("linalg", "svdvals", L.svdvals, ("normal", (4, 3))),
        op("linalg", "eigvalsh", lambda a: L.eigvalsh(_spd(a)), ("normal", (3, 3))),
        op("linalg", "pinv", L.pinv, ("normal", (4, 3))),
        op("linalg", "matrix_power", lambda a: L.matrix_power(a, 3), ("normal", (3, 3))),
    ]


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``tidu gradcheck``."""
    p = sub.add_parser(
        "gradcheck", help="check the gradients of the built-in operations",
        description="Check the gradient of every family of built-in operations (elementwise, "
        "activation, reduce, shape, math, nonlinearity, scan, sort, index, layout, contract, "
        "linalg) against central differences in float64, and print a table: operation, worst "
        "absolute and relative error, ok or FAIL. Exits with 1 if any check fails.",
        epilog="examples:\n  tidu gradcheck\n  tidu gradcheck --family linalg\n"
        "  tidu gradcheck --op 'soft|sig'",
        formatter_class=HelpFormatter)
    p.add_argument("--family", action="append", choices=FAMILIES, metavar="FAMILY",
                   help=f"check only this family (repeatable): {', '.join(FAMILIES)}")
    p.add_argument("--op", metavar="REGEX",
                   help="check only the operations whose name matches this regular expression")
    p.add_argument("--list", action="store_true", help="list the operations and exit")
    p.add_argument("--eps", type=float, default=1e-6, help="finite-difference step "
                   "(default: %(default)g)")
    p.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance "
                   "(default: %(default)g)")
    p.add_argument("--rtol", type=float, default=1e-3, help="relative tolerance "
                   "(default: %(default)g)")
    p.add_argument("--seed", type=int, default=0, help="seed of the inputs (default: 0)")
    p.set_defaults(run=run)
    return p


def select(families=None, pattern: str | None = None) -> list[OpCheck]:
    """The rows of the table in the given families whose name matches ``pattern``."""
    rows = _table()
    if families:
        rows = [r for r in rows if r.family in families]
    if pattern:
        try:
            rx = re.compile(pattern)
        except re.error as e:
            raise UsageError(f"--op: {pattern!r} is not a regular expression ({e})") from None
        rows = [r for r in rows if rx.search(r.name)]
    if not rows:
        raise UsageError(f"no operation matches --family {families or 'any'} and --op "
                         f"{pattern!r}; see `tidu gradcheck --list`")
    return rows


def check(row: OpCheck, eps: float, atol: float, rtol: float, seed: int):
    """Run :func:`tidu.gradcheck` on one row; returns (abs error, rel error, ok, note)."""
    import tidu

    rng = np.random.default_rng(seed)
    xs = [_draw(domain, shape, rng) for domain, shape in row.domains]
    try:
        r = tidu.gradcheck(row.fn, xs, eps=eps, atol=atol, rtol=rtol, raise_exception=False)
    except Exception as e:  # an op that raises is a failure of the check, not of the command
        return float("nan"), float("nan"), False, f"{type(e).__name__}: {e}"
    return max(r.max_abs_error), max(r.max_rel_error), r.ok, ""


def run(args) -> int:
    """Print the table; 0 when every row passed, 1 otherwise."""
    if args.eps <= 0 or args.atol < 0 or args.rtol < 0:
        raise UsageError("--eps must be positive and --atol, --rtol not negative; got "
                         f"--eps {args.eps} --atol {args.atol} --rtol {args.rtol}")
    rows = select(args.family, args.op)
    if args.list:
        for r in rows:
            print(f"{r.family:<13}{r.name}")
        return 0
    width = max(len(r.name) for r in rows) + 2
    print(f"{'family':<13}{'operation':<{width}}{'max abs err':>12}{'max rel err':>13}  result")
    print("-" * (13 + width + 12 + 13 + 8))
    failed, t0 = [], time.perf_counter()
    for r in rows:
        abs_err, rel_err, ok, note = check(r, args.eps, args.atol, args.rtol, args.seed)
        status = "ok" if ok else "FAIL"
        line = f"{r.family:<13}{r.name:<{width}}{abs_err:>12.2e}{rel_err:>13.2e}  {status}"
        print(line + (f"  ({note})" if note else ""), flush=True)
        if not ok:
            failed.append(r.name)
    seconds = time.perf_counter() - t0
    if failed:
        print(f"tidu gradcheck: {len(failed)} of {len(rows)} operations FAILED: "
              f"{', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(rows)} operations ok ({seconds:.1f} s; eps {args.eps:g}, atol "
          f"{args.atol:g}, rtol {args.rtol:g})")
    return 0
