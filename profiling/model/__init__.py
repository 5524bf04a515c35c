"""The profiling model: features, training, calibration, evaluation, explanation and storage.

Modules
    features    the model inputs and audited attributes (the CSV columns), encoding to numbers
    csvdata     reading and checking a labelled CSV file (line-numbered errors)
    history     synthetic labelled histories: the demo generator's and an independent one
    train       fitting a calibrated model, its metrics and model card; `model_train`
    evaluation  AUC, ECE, Brier, fairness figures per audited group; `evaluate`
    runtime     loading a stored version (checksum first) and predicting with explanations
"""
