"""Train the anomaly model on the generator's window features and export it for the processor.

Reads ops/ml/build/features.csv and features.json (written by export-features.ts from the
seeded event generator and the topology's own feature code), trains a gradient-boosted
tree classifier (scikit-learn, fixed random_state), and writes into models/<name>/<version>/:

  model.onnx     skl2onnx export, ZipMap disabled: probabilities come out as a [rows, 2] tensor
  metadata.json  name, version, input/output tensor names, ordered features with types and
                 valid ranges, decision threshold (chosen on held-out data)
  parity.json    held-out feature rows and scikit-learn's probabilities, which a Node test
                 compares with onnxruntime-node's within 1e-5

Run it with `npm run train` (which exports the features first).
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load(build_dir):
    with open(os.path.join(build_dir, "features.json")) as f:
        spec = json.load(f)
    with open(os.path.join(build_dir, "features.csv")) as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = np.array([[float(x) for x in row] for row in reader], dtype=np.float64)
    names = [f["name"] for f in spec["features"]]
    if header[:-1] != names or header[-1] != "label":
        sys.exit(f"features.csv columns {header} do not match features.json {names} + label")
    # float32 is what the model sees in Node: train and compare on exactly those values.
    x = rows[:, :-1].astype(np.float32)
    y = rows[:, -1].astype(np.int64)
    return spec, x, y


def choose_threshold(y, scores):
    """The threshold with the best F1 on held-out data (alerts should be both right and few)."""
    best, best_f1 = 0.5, -1.0
    for t in np.linspace(0.01, 0.99, 99):
        predicted = scores >= t
        tp = np.sum(predicted & (y == 1))
        precision = tp / max(1, np.sum(predicted))
        recall = tp / max(1, np.sum(y == 1))
        f1 = 0 if tp == 0 else 2 * precision * recall / (precision + recall)
        if f1 > best_f1:
            best, best_f1 = float(round(t, 2)), f1
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="anomaly-detector")
    p.add_argument("--version", default="1")
    p.add_argument("--build", default=os.path.join(HERE, "build"))
    p.add_argument("--out", default=os.path.join(ROOT, "models"))
    args = p.parse_args()

    spec, x, y = load(args.build)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=7, stratify=y)
    model = GradientBoostingClassifier(n_estimators=80, max_depth=3, learning_rate=0.1, subsample=0.8, random_state=7)
    model.fit(x_train, y_train)
    scores = model.predict_proba(x_test)[:, 1]
    threshold = choose_threshold(y_test, scores)
    predicted = scores >= threshold
    quality = {
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "heldOutRows": int(len(y_test)),
        "rocAuc": round(float(roc_auc_score(y_test, scores)), 4),
        "precision": round(float(precision_score(y_test, predicted, zero_division=0)), 4),
        "recall": round(float(recall_score(y_test, predicted, zero_division=0)), 4),
    }

    width = len(spec["features"])
    onx = to_onnx(model, initial_types=[("features", FloatTensorType([None, width]))], options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    outputs = [o.name for o in onx.graph.output]
    if "probabilities" not in outputs:
        sys.exit(f"the exported graph has outputs {outputs}, expected 'probabilities'")

    out = os.path.join(args.out, args.name, args.version)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "model.onnx"), "wb") as f:
        f.write(onx.SerializeToString())
    metadata = {
        "name": args.name,
        "version": args.version,
        "description": "Flags entity windows (1-minute tumbling) that look like card testing, credential stuffing or scraping.",
        "input": "features",
        "probabilities": "probabilities",
        "features": spec["features"],
        "threshold": threshold,
        "positiveLabel": "anomaly",
        "negativeLabel": "normal",
        "windowMs": spec["windowMs"],
        "training": {"generatorSeed": spec["seed"], "entities": spec["entities"], "minutes": spec["minutes"], "algorithm": "sklearn GradientBoostingClassifier(n_estimators=80, max_depth=3)", **quality},
    }
    with open(os.path.join(out, "metadata.json"), "w") as f:
        json.dump(metadata, f, indent=2)
        f.write("\n")
    # Parity: every held-out positive and the first 200 negatives.
    pick = np.concatenate([np.where(y_test == 1)[0], np.where(y_test == 0)[0][:200]])
    parity = {"rows": x_test[pick].tolist(), "probabilities": model.predict_proba(x_test[pick])[:, 1].tolist()}
    with open(os.path.join(out, "parity.json"), "w") as f:
        json.dump(parity, f)
        f.write("\n")
    print(f"{args.name} v{args.version} → {out}: {json.dumps(quality)}, threshold {threshold}")


if __name__ == "__main__":
    main()
