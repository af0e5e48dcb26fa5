#!/usr/bin/env bash
# The one prepared GPU run (issue 19): install CuPy, run the device tests on 'cuda', then the
# side-by-side benchmark against PyTorch CUDA. Run from the repository root on a GPU machine:
#   bash bench/gpu_check.sh            (about 5 minutes)
set -euo pipefail
python -m pip install -q "cupy-cuda12x" 2>&1 | tail -1 || true
python -m pip install -q -e ".[test]" 2>&1 | tail -1 || true
python -c "import tidu; print('cuda available:', tidu.backend.cuda_available())"
# every op-table case, layer, loss, optimizer, fit and compiled function on 'cuda' vs the CPU
python -m pytest -q -p no:cacheprovider tests/test_device.py tests/test_device_training.py \
  tests/test_device_compile.py -k cuda -x 2>&1 | tail -15 || true
python bench/bench_gpu.py --repeats 3 --samples 60000
