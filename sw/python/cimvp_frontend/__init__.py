"""cimvp front end: Fashion-MNIST training, quantization-aware fine-tuning,
the integer fake-quant reference of the numeric contract (docs/numerics.md)
and the model file writer/reader (docs/model-format.md)."""
