#!/bin/bash
# Retrain the bundled MNIST and Fashion-MNIST models with the exact commands behind the shipped
# cards (resources/models/NAME.json: "reproduce" records each command, seed and wall time;
# tests/test_shipped_cards.py checks this file against the cards). One torch thread per run:
# with the same thread count on the same kind of CPU the same command gives the same weights.
#
#   DATA=/path/to/shared/data OUT=runs scripts/train_bundled.sh [NAME...]    (PY=echo: print the commands)
#   python scripts/bundle_models.py NAME... --runs "$OUT"     # then ship them
#
# DATA holds mnist/ and fashion-mnist/ (the standard idx files). Measured on 2 shared CPU
# cores, one thread each: standard runs take minutes, PGD-5 runs about an hour or more.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data}
OUT=${OUT:-$ROOT/runs}
PY=${PY:-python}
cd "$ROOT"
want() { [ $# -eq 0 ] || [[ " $* " == *" $NAME "* ]]; }

NAME=mnist-standard; if want "$@"; then
$PY -m visualizer train --threads 1 --seed 0 --out "$OUT/mnist-standard" --data "mnist:$DATA/mnist" --arch mnist-cnn --adversarial none --epochs 3 --lr 0.003
fi
NAME=mnist-robust; if want "$@"; then
$PY -m visualizer train --threads 1 --seed 0 --out "$OUT/mnist-robust" --data "mnist:$DATA/mnist" --arch mnist-cnn --adversarial pgd:linf:0.3:10 --eps-warmup 2 --epochs 8
fi
NAME=mnist-robust-l2; if want "$@"; then
$PY -m visualizer train --threads 1 --seed 0 --out "$OUT/mnist-robust-l2" --data "mnist:$DATA/mnist" --arch mnist-cnn --adversarial pgd:l2:2.0:5 --epochs 3
fi
NAME=fashion-standard; if want "$@"; then
$PY -m visualizer train --threads 1 --seed 0 --out "$OUT/fashion-standard" --data "fashion-mnist:$DATA/fashion-mnist" --arch mnist-cnn --adversarial none --epochs 6
fi
NAME=fashion-robust; if want "$@"; then
$PY -m visualizer train --threads 1 --seed 0 --out "$OUT/fashion-robust" --data "fashion-mnist:$DATA/fashion-mnist" --arch mnist-cnn --adversarial pgd:linf:0.1:5 --epochs 4
fi
NAME=fashion-robust-l2; if want "$@"; then
$PY -m visualizer train --threads 1 --seed 0 --out "$OUT/fashion-robust-l2" --data "fashion-mnist:$DATA/fashion-mnist" --arch mnist-cnn --adversarial pgd:l2:1.5:5 --epochs 3
fi
