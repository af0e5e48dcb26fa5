"""``tidu predict MODEL INPUT...``: classes (or probabilities) for arrays or images."""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

from ._common import (
    CLIError,
    HelpFormatter,
    existing_file,
    input_shape,
    load_array_file,
    load_model,
    read_run,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``tidu predict``."""
    p = sub.add_parser(
        "predict", help="predict classes for arrays (.npy/.npz) or images (PNG, JPEG)",
        description="Run a saved model on samples and print one predicted class per line, in "
        "input order. INPUT is a .npy file, an .npz file (array x, or its only array, or "
        "--key), or image files (PNG, JPEG, ...; needs Pillow), one sample each. Arrays are "
        "taken as preprocessed for training (integer arrays are divided by 255); images are "
        "converted to grayscale or RGB, resized to the model's image size and scaled to "
        "[0, 1].",
        epilog="examples:\n  tidu predict runs/text-b-digits/model.tidu samples.npy\n"
        "  tidu predict model.tidu digit.png --invert      # black ink on white paper\n"
        "  tidu predict model.tidu test.npz --probabilities --output probs.npy",
        formatter_class=HelpFormatter)
    p.add_argument("model", metavar="MODEL", help="a model file written by tidu train or "
                   "model.save")
    p.add_argument("inputs", metavar="INPUT", nargs="+", help=".npy, .npz or image files")
    p.add_argument("--key", metavar="NAME", help="the array to read from an .npz file")
    p.add_argument("--probabilities", "-p", action="store_true",
                   help="print (or write) the model's outputs instead of the classes")
    p.add_argument("--names", action="store_true",
                   help="print class names (from run.json beside the model) instead of numbers")
    p.add_argument("--output", "-o", metavar="FILE.npy",
                   help="write the predictions to a .npy file instead of printing them")
    p.add_argument("--invert", action="store_true",
                   help="invert images (for dark digits on a light background: the digit "
                   "data sets are light on dark)")
    p.add_argument("--image-size", metavar="HxW",
                   help="the image size the model takes (default: from run.json, else from "
                   "the model's input shape)")
    p.add_argument("--batch-size", "-b", type=int, default=256, metavar="N",
                   help="samples per batch (default: 256)")
    p.set_defaults(run=run)
    return p


def image_shape(model, record: dict, size: str | None) -> tuple[int, int, int]:
    """(height, width, channels) of the images the model takes."""
    shape = input_shape(model)
    n = int(np.prod(shape)) if shape else None
    if size:
        try:
            h, w = (int(v) for v in size.lower().split("x"))
        except ValueError:
            raise CLIError(f"--image-size: expected HxW such as 28x28, got {size!r}") from None
        if n is None or n % (h * w):
            raise CLIError(f"--image-size {size}: the model takes {n} values per sample, not "
                           f"a multiple of {h}x{w}")
        return h, w, n // (h * w)
    if record.get("image_shape"):
        return tuple(int(v) for v in record["image_shape"])
    if shape and len(shape) in (2, 3):
        return (*shape[:2], shape[2] if len(shape) == 3 else 1)
    if n:
        for channels in (1, 3):
            side = math.isqrt(n // channels)
            if side * side * channels == n:
                return side, side, channels
    raise CLIError(f"cannot tell which image size the model takes (input shape {shape}); "
                   "pass --image-size HxW, or give arrays (.npy) instead of images")


def read_image(path: str, shape: tuple[int, int, int], invert: bool) -> np.ndarray:
    """One image as float32 (height, width, channels) in [0, 1], resized to ``shape``."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise CLIError("reading images needs Pillow, which is not installed: pip install "
                       "'tidu[images]' (or pillow); or pass arrays (.npy) instead") from None
    h, w, c = shape
    try:
        with Image.open(path) as img:
            img = img.convert("L" if c == 1 else "RGB")
            if img.size != (w, h):
                img = img.resize((w, h), Image.Resampling.LANCZOS)
            x = np.asarray(img, dtype=np.float32) / np.float32(255)
    except UnidentifiedImageError:
        raise CLIError(f"{path}: not an image Pillow can read") from None
    except OSError as e:
        raise CLIError(f"{path}: cannot read the image ({e})") from e
    x = x.reshape(h, w, c)
    return 1 - x if invert else x


def read_inputs(args, model, record: dict) -> np.ndarray:
    """All INPUTs as one batch shaped for the model."""
    shape = input_shape(model)
    n = int(np.prod(shape)) if shape else None
    parts, img_shape = [], None
    for path in args.inputs:
        existing_file(path, "input file")
        if path.lower().endswith(IMAGE_SUFFIXES):
            img_shape = img_shape or image_shape(model, record, args.image_size)
            parts.append(read_image(path, img_shape, args.invert).reshape(1, -1))
            continue
        x = load_array_file(path, args.key)
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)
                or x.dtype == np.bool_):
            raise CLIError(f"{path}: expected numbers, got an array of dtype {x.dtype}")
        if np.issubdtype(x.dtype, np.integer):
            x = x.astype(np.float32) / np.float32(255)
        if shape is not None and x.shape == tuple(shape):
            x = x[None]  # one sample
        if x.ndim < 2 or (n is not None and int(np.prod(x.shape[1:])) != n):
            raise CLIError(f"{path}: an array of shape {x.shape} does not fit the model, "
                           f"which takes samples of shape {shape} ({n} values each): expected "
                           f"(samples, {', '.join(map(str, shape or ()))})")
        parts.append(x.reshape(len(x), -1).astype(np.float32, copy=False))
    x = np.concatenate(parts)
    if len(x) == 0:
        raise CLIError(f"{', '.join(args.inputs)}: no samples to predict")
    return x.reshape((len(x), *shape)) if shape is not None else x


def classes_of(out: np.ndarray) -> np.ndarray:
    """The predicted class of each row: threshold 0.5 for one output, else the largest."""
    out = out.reshape(len(out), -1)
    if out.shape[1] == 1:
        return (out[:, 0] > 0.5).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)


def run(args) -> int:
    """Print or write the predictions; 0 on success."""
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be a positive integer, got {args.batch_size}")
    if args.output and not args.output.endswith(".npy"):
        raise CLIError(f"--output: expected a .npy file name, got {args.output!r}")
    model = load_model(args.model)
    record = read_run(args.model)
    x = read_inputs(args, model, record)
    out = np.asarray(model.predict(x, batch_size=args.batch_size))
    result = out if args.probabilities else classes_of(out)
    if args.output:
        directory = os.path.dirname(os.path.abspath(args.output))
        os.makedirs(directory, exist_ok=True)
        np.save(args.output, result)
        print(f"wrote {len(result)} predictions {result.shape} to {args.output}",
              file=sys.stderr)
        return 0
    names = record.get("class_names") or []
    lines = []
    for row in result:
        if args.probabilities:
            lines.append(" ".join(f"{v:.6f}" for v in np.ravel(row)))
        elif args.names and int(row) < len(names):
            lines.append(str(names[int(row)]))
        else:
            lines.append(str(int(row)))
    print("\n".join(lines))
    return 0
