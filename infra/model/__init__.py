"""The credit-model training pipeline (development only): LightGBM champion, WoE scorecard challenger, ONNX.

``train(out_dir)`` refits both models from the public data with a fixed seed and writes ``model.onnx`` (the
champion's also gives each feature's contribution, for reason codes) and a ``card.json`` per model;
``evaluate(dir)`` reloads them with onnxruntime and checks them. Heavy libraries are imported inside those
calls, so importing this package stays cheap.
"""

from infra.model.pipeline import evaluate, train

__all__ = ["evaluate", "train"]
