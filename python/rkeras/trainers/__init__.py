"""Training loop machinery (compile/fit/evaluate/predict) mixed into `Model`."""
