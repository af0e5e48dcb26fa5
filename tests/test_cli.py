"""The ``tidu`` command line: train, evaluate, predict, summary, gradcheck, and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tidu
from tidu.cli import CLIError, main
from tidu.cli import gradcheck as gc_cmd
from tidu.models import load_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One epoch of Text B's network on the digits, trained through the command line."""
    pytest.importorskip("sklearn")  # the embedded digits
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--epochs", "1", "--output", str(out), "--quiet"]) == 0
    return out


def test_python_m_tidu_help_in_a_subprocess():
    env = {**os.environ, "PYTHONPATH": str(Path(tidu.__file__).parents[1])}
    r = subprocess.run([sys.executable, "-m", "tidu", "--help"], capture_output=True,
                       text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    for command in ("train", "evaluate", "predict", "summary", "gradcheck"):
        assert command in r.stdout
    assert r.stderr == ""


def test_help_of_every_command(capsys):
    for command in ("train", "evaluate", "predict", "summary", "gradcheck"):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert text.startswith(f"usage: tidu {command}") and "example" in text
    assert "text-b" in (main(["train", "--help"]), capsys.readouterr().out)[1]


def test_train_writes_model_and_run_record(trained, capsys):
    run = json.loads((trained / "run.json").read_text())
    assert run["recipe"] == "text-b" and run["data"] == "digits" and run["epochs"] == 1
    assert 0.5 < run["results"]["test_accuracy"] <= 1.0
    model = load_model(trained / "model.tidu")
    assert [tuple(p.shape) for p in model.parameters()] == [(64, 512), (512,), (512, 10), (10,)]


def test_train_prints_summary_progress_and_test_metrics(tmp_path, capsys):
    pytest.importorskip("sklearn")
    assert main(["train", "-e", "1", "-b", "256", "--lr", "0.002", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Total params: 38,410" in out and "Epoch 1/1" in out and "test_accuracy" in out
    assert "RMSprop (learning rate 0.002)" in out and "batch 256" in out
    assert (tmp_path / "history.csv").read_text().splitlines()[0].startswith("epoch")


def test_summary(trained, capsys):
    assert main(["summary", str(trained / "model.tidu")]) == 0
    out = capsys.readouterr().out
    assert "Dense" in out and "Total params: 38,410" in out
    assert "recipe text-b on digits" in out


def test_evaluate_matches_training_record(trained, capsys):
    run = json.loads((trained / "run.json").read_text())
    assert main(["evaluate", str(trained / "model.tidu"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["split"] == "test" and result["samples"] == 359
    assert result["accuracy"] == pytest.approx(run["results"]["test_accuracy"], abs=1e-9)
    assert result["loss"] == pytest.approx(run["results"]["test_loss"], rel=1e-6)


def test_predict_npy_one_class_per_line(trained, tmp_path, capsys):
    x = np.random.default_rng(0).uniform(0, 1, (7, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    path = trained / "model.tidu"
    assert main(["predict", str(path), str(tmp_path / "x.npy")]) == 0
    lines = capsys.readouterr().out.split()
    expected = load_model(path).predict(x).argmax(axis=1)
    assert [int(v) for v in lines] == expected.tolist()
    # probabilities to a file; an .npz with x; images of 8x8 flattened are reshaped
    np.savez(tmp_path / "x.npz", x=x.reshape(7, 8, 8))
    out = tmp_path / "p.npy"
    assert main(["predict", str(path), str(tmp_path / "x.npz"), "-p", "-o", str(out)]) == 0
    p = np.load(out)
    assert p.shape == (7, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert p.argmax(axis=1).tolist() == expected.tolist()


def test_predict_png(trained, tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    from tidu.datasets import digits

    (_, _), (xs, ys) = digits.load_data()
    files = []
    for i in range(5):  # 32x32 grayscale and RGB: converted and resized to 8x8
        img = Image.fromarray((xs[i] * 255 / 16).astype(np.uint8)).resize((32, 32))
        files.append(tmp_path / f"d{i}.png")
        (img.convert("RGB") if i % 2 else img).save(files[-1])
    path = trained / "model.tidu"
    assert main(["predict", str(path), *map(str, files)]) == 0
    got = [int(v) for v in capsys.readouterr().out.split()]
    resized = np.stack([np.asarray(Image.open(f).convert("L").resize((8, 8),
                        Image.Resampling.LANCZOS), np.float32) / 255 for f in files])
    assert got == load_model(path).predict(resized.reshape(5, 64)).argmax(axis=1).tolist()
    assert np.mean(np.array(got) == ys[:5]) >= 0.6  # the images are real digits


def test_exit_codes_and_messages(trained, tmp_path, monkeypatch, capsys):
    missing = tmp_path / "nope.tidu"
    assert main(["evaluate", str(missing)]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "does not exist" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1

    text = tmp_path / "notes.txt"
    text.write_text("not a model\n")
    assert main(["summary", str(text)]) == 1
    err = capsys.readouterr().err
    assert "notes.txt" in err and "not a tidu model file" in err and "Traceback" not in err

    assert main(["train", "--epochs", "0"]) == 2
    assert "positive integer" in capsys.readouterr().err
    assert main(["train", "--no-such-option"]) == 2
    assert main(["predict", str(trained / "model.tidu")]) == 2  # INPUT missing
    assert main(["frobnicate"]) == 2
    assert main([]) == 2
    capsys.readouterr()
    assert main(["train", "--data", "imagenet"]) == 2
    assert "unknown data set 'imagenet'" in capsys.readouterr().err

    bad = tmp_path / "wrong.npy"
    np.save(bad, np.zeros((3, 5), np.float32))
    assert main(["predict", str(trained / "model.tidu"), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "(3, 5)" in err and "(64,)" in err

    png = tmp_path / "digit.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    assert main(["predict", str(trained / "model.tidu"), str(png)]) == 1
    assert "needs Pillow" in capsys.readouterr().err
    monkeypatch.undo()

    np.savez(tmp_path / "wide.npz", x=np.zeros((4, 5), np.float32), y=np.arange(4))
    assert main(["evaluate", str(trained / "model.tidu"), "-d", str(tmp_path / "wide.npz")]) == 1
    err = capsys.readouterr().err
    assert "takes samples of shape (64,)" in err and "5 values per sample" in err

    for argv in (["--debug", "summary", str(text)], ["summary", str(text), "--debug"]):
        with pytest.raises(CLIError) as info:  # --debug: the traceback, with its cause
            main(argv)
        assert isinstance(info.value.__cause__, ValueError)


def test_train_on_npz_and_binary_recipe(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (120, 6, 6), dtype=np.uint8)
    y = (x.reshape(120, -1).mean(axis=1) > 127).astype(np.int64)
    np.savez(tmp_path / "d.npz", x=x[:100], y=y[:100], x_test=x[100:], y_test=y[100:])
    out = tmp_path / "run"
    assert main(["train", "-r", "text-a", "-d", str(tmp_path / "d.npz"), "-e", "30",
                 "-o", str(out), "-q"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["image_shape"] == [6, 6, 1] and run["batch_size"] == 100
    assert "test_accuracy" in run["results"]
    capsys.readouterr()
    np.save(tmp_path / "q.npy", x[100:])  # uint8: divided by 255 as in training
    assert main(["predict", str(out / "model.tidu"), str(tmp_path / "q.npy")]) == 0
    got = [int(v) for v in capsys.readouterr().out.split()]
    p = load_model(out / "model.tidu").predict(x[100:].reshape(20, -1) / np.float32(255))
    assert got == (p[:, 0] > 0.5).astype(int).tolist()

    np.savez(tmp_path / "nolabels.npz", x=x)
    assert main(["train", "-d", str(tmp_path / "nolabels.npz"), "-o", str(out)]) == 1
    assert "needs arrays 'x' and 'y', missing ['y']" in capsys.readouterr().err


def test_gradcheck_table_every_row_ok(capsys):
    assert main(["gradcheck"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [ln for ln in lines[2:] if ln.split()[0] in gc_cmd.FAMILIES]
    assert len(rows) == len(gc_cmd.select()) >= 60
    assert all(ln.endswith("ok") for ln in rows)
    assert {ln.split()[0] for ln in rows} == set(gc_cmd.FAMILIES)
    for ln in rows:  # worst absolute error well inside the tolerance
        assert float(ln.split()[-3]) < 1e-6
    assert lines[-1].startswith(f"all {len(rows)} operations ok")


def test_gradcheck_reports_a_wrong_gradient(monkeypatch, capsys):
    class WrongSquare(tidu.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return 3 * self.x * g  # should be 2 x g

    rows = [gc_cmd.OpCheck("math", "wrong_square", WrongSquare.apply, (("normal", (3,)),)),
            *gc_cmd._table()[:2]]
    monkeypatch.setattr(gc_cmd, "_table", lambda: rows)
    assert main(["gradcheck"]) == 1
    captured = capsys.readouterr()
    assert "wrong_square" in captured.out and "FAIL" in captured.out
    assert "1 of 3 operations FAILED: wrong_square" in captured.err
    assert main(["gradcheck", "--family", "linalg", "--op", "^nothing$"]) == 2


def test_resume_after_an_interruption_ends_bit_identical(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    from tidu.callbacks import CSVLogger

    args = ["train", "-e", "3", "-b", "512", "--seed", "3", "-q"]
    assert main([*args, "-o", str(tmp_path / "whole")]) == 0
    original = CSVLogger.on_epoch_end

    def interrupt(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(CSVLogger, "on_epoch_end", interrupt)
    out = tmp_path / "cut"
    assert main([*args, "-o", str(out)]) == 130
    assert "run the same command with --resume" in capsys.readouterr().err
    assert not (out / "model.tidu").exists() and any((out / "backup").iterdir())
    monkeypatch.setattr(CSVLogger, "on_epoch_end", original)
    capsys.readouterr()
    assert main([*args, "-o", str(out)]) == 1  # a backup is there: refuse to start over
    assert "--resume" in capsys.readouterr().err
    assert main([*args, "-o", str(out), "--resume"]) == 0
    assert "resuming from the backup" in capsys.readouterr().err
    whole = load_model(tmp_path / "whole" / "model.tidu").state_dict()
    resumed = load_model(out / "model.tidu").state_dict()
    assert whole.keys() == resumed.keys()
    for k in whole:
        np.testing.assert_array_equal(resumed[k], whole[k])
    rows = (out / "history.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["epoch", "0", "1", "2"]  # epoch 2 run once


def test_readme_commands_parse():
    from tidu.cli import build_parser

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## The command line\n", 1)[1].split("```bash\n", 1)[1]
    commands = [ln.split("#")[0].split() for ln in block.split("```")[0].splitlines()]
    assert len(commands) >= 6
    parser = build_parser()
    for argv in commands:
        assert argv[0] == "tidu"
        args = parser.parse_args(argv[1:])  # exits (a failed test) on a usage error
        assert args.command == argv[1]
