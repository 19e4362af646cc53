#!/usr/bin/env bash
# Regenerates the shipped graph networks from scratch (models/README.md, "Graph networks"):
# trains the ResNet-20 and MobileNet-v2 style networks on Fashion-MNIST side by side (one torch
# thread each), exports them as ONNX graphs, and imports each as an int8 cimvp model with its
# expected-results file and its workload trace, then as BWMA and (ResNet-20) column-wise models.
# Needs scripts/setup.sh's packages; no build.
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
# BWMA (binary inner layers, 4-bit activations) with 3 epochs of fine-tuning, side by side; then
# column-wise (ResNet-20 only: MobileNet's depthwise convs have no column-wise form) with 2 epochs
# on the first 20,000 training images.
for n in resnet20 mobilenetv2; do
  "$py" sw/python/cimvp_import.py "models/fmnist-$n.onnx" --out "models/fmnist-$n-bwma.cimvp" \
    --scheme bwma --epochs 3 --lr 0.01 &
done
wait
"$py" sw/python/cimvp_import.py models/fmnist-resnet20.onnx --out models/fmnist-resnet20-columnwise.cimvp \
  --scheme columnwise --epochs 2 --train-count 20000 --lr 0.005
echo "make_graph_models: done in $(( $(date +%s) - start )) s"
