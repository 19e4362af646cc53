#!/usr/bin/env bash
# Regenerates the shipped graph networks from scratch (models/README.md, "Graph networks"):
# trains the ResNet-20 and MobileNet-v2 style networks on Fashion-MNIST side by side (one torch
# thread each), exports them as ONNX graphs, and imports each as an int8 cimvp model with its
# expected-results file and its workload trace. Needs scripts/setup.sh's packages; no build.
set -euo pipefail
cd "$(dirname "$0")/.."
py=/usr/bin/python3
start=$(date +%s)
"$py" sw/python/train_graph_models.py --only resnet &
resnet=$!
"$py" sw/python/train_graph_models.py --only mobilenet &
mobilenet=$!
wait "$resnet"
wait "$mobilenet"
for n in resnet20 mobilenetv2; do
  "$py" sw/python/cimvp_import.py "models/fmnist-$n.onnx" --out "models/fmnist-$n.cimvp" \
    --trace-out "traces/fmnist-$n.trace"
done
echo "make_graph_models: done in $(( $(date +%s) - start )) s"
