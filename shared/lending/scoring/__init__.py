"""Credit scoring at run time: the feature builder, the ONNX model behind its card, scores, grades, reason codes.

Only onnxruntime and numpy: no scikit-learn, pandas or lightgbm reach a Lambda function.
"""
