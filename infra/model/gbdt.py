"""The champion: a monotone LightGBM model, exported as one ONNX graph that gives P(bad) and its reason codes.

The graph is built here from LightGBM's dumped trees, not by onnxmltools: a tree ensemble with the champion's
splits whose leaves hold per-feature path (Saabas) contributions. On the path to a leaf, each split credits its
feature with the change in the node's mean prediction, so a row's contributions plus the bias sum to LightGBM's
margin, and P(bad) is the sigmoid of that sum. One ensemble run gives both the probability and the reason codes
(two graphs, a classifier and a companion with the same splits, cost twice the tree walks and twice the memory).

Every split routes a float32 input exactly as LightGBM does:

* Thresholds. LightGBM compares the input, widened to float64, with a float64 threshold; a graph stores the
  threshold as float32. Storing the largest float32 at or below the threshold makes ``x <= t32`` equal
  ``x <= t64`` for every float32 ``x`` (rounding to nearest, as onnxmltools does, sends a value sitting on a
  rounded-up threshold the other way).
* NaN. Where the training data had no NaN for a split's feature (``missing_type`` None), LightGBM scores NaN as
  0.0, so the NaN branch is where 0.0 goes (onnxmltools follows the split's default direction, which agrees only
  by chance). Learned NaN directions are kept.

onnxmltools' own export (:func:`export_onnx`, with the same corrections applied to its classifier graph or
without them) is kept as the reference the card measures the graph against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from infra.model.dataset import SEED
from infra.model.runtime import INPUT_NAME

if TYPE_CHECKING:
    import lightgbm as lgb
    import onnx

#: Training parameters. Chosen by 5-fold cross-validation on the training part only (never the holdout):
#: a low rate with leaves of at least 80 applicants and half the features per tree generalised best.
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "num_leaves": 15,
    "learning_rate": 0.02,
    "min_data_in_leaf": 80,
    "feature_fraction": 0.5,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "monotone_constraints_method": "basic",
    "seed": SEED,
    # One thread and row-wise histograms make the fit bit-for-bit repeatable, so evaluate can refit it.
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}
NUM_TREES = 400
#: The champion graph's main opset (ai.onnx.ml 1 beside it); also handed to onnxmltools for the reference export,
#: which emits the lowest opsets that suffice (main 9, ai.onnx.ml 1).
TARGET_OPSET = 15
CONTRIBUTIONS_OUTPUT = "contributions"
PROBABILITIES_OUTPUT = "probabilities"


class ExportError(RuntimeError):
    """The exported graph does not mirror the LightGBM trees it was made from."""


def fit_booster(features: np.ndarray, bad: np.ndarray, monotone: list[int]) -> lgb.Booster:
    """Fit the champion from scratch with the fixed seed."""
    import lightgbm as lgb

    params = {**PARAMS, "monotone_constraints": monotone}
    dataset = lgb.Dataset(features, label=bad, free_raw_data=True)
    return lgb.train(params, dataset, num_boost_round=NUM_TREES)


def cross_validated_auc(features: np.ndarray, bad: np.ndarray, monotone: list[int], folds: int = 5) -> float:
    """Mean AUC of the champion's recipe over stratified folds of the training part."""
    from sklearn.model_selection import StratifiedKFold

    from infra.model.metrics import roc_auc

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    scores = []
    for fit_rows, check_rows in splitter.split(features, bad):
        booster = fit_booster(features[fit_rows], bad[fit_rows], monotone)
        scores.append(roc_auc(bad[check_rows], np.asarray(booster.predict(features[check_rows]))))
    return float(np.mean(scores))


def tree_structures(booster: lgb.Booster) -> list[dict[str, Any]]:
    """The root node of every tree, as LightGBM dumps it (thresholds in full float64)."""
    return [tree["tree_structure"] for tree in booster.dump_model()["tree_info"]]


def float32_at_or_below(threshold: float) -> np.float32:
    """The largest float32 not above ``threshold``: for float32 x, ``x <= result`` iff ``x <= threshold``."""
    nearest = np.float32(threshold)
    if float(nearest) > threshold:
        nearest = np.nextafter(nearest, np.float32(-np.inf))
    return nearest


def nan_goes_left(node: dict[str, Any]) -> bool:
    """Whether LightGBM sends NaN down the left (``<=``) branch of a split."""
    missing_type = node["missing_type"]
    if missing_type == "NaN":
        return bool(node["default_left"])
    if missing_type == "None":
        # LightGBM replaces NaN by 0.0 when the feature had no NaN in training, and 0.0 goes left iff 0.0 <= t.
        return float(node["threshold"]) >= 0.0
    raise ExportError(f"missing_type {missing_type!r} cannot be expressed in an ONNX tree ensemble")


def _is_split(node: dict[str, Any]) -> bool:
    """Whether a dumped node is a split (else a leaf)."""
    return "split_index" in node


def _check_split(node: dict[str, Any]) -> None:
    """Refuse splits the export does not handle: categorical bitsets or a comparison other than ``<=``."""
    if node["decision_type"] != "<=":
        raise ExportError(f"decision type {node['decision_type']!r} is not supported; keep inputs numeric")


@dataclass
class _Attributes:
    """The TreeEnsembleClassifier attributes this module rewrites, with a lookup from (tree, node) to position."""

    values: list[float]
    missing_true: list[int]
    features: list[int]
    modes: list[bytes]
    true_ids: list[int]
    false_ids: list[int]
    position: dict[tuple[int, int], int]


def _tree_node(model: onnx.ModelProto) -> onnx.NodeProto:
    """The single tree-ensemble node of an onnxmltools LightGBM graph."""
    nodes = [node for node in model.graph.node if node.op_type.startswith("TreeEnsemble")]
    if len(nodes) != 1:
        raise ExportError(f"expected one tree ensemble node, found {len(nodes)}")
    found: onnx.NodeProto = nodes[0]
    return found


def _read_attributes(node: onnx.NodeProto) -> _Attributes:
    """Copy the split attributes out of the graph node."""
    from onnx import helper

    raw = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
    tree_ids, node_ids = list(raw["nodes_treeids"]), list(raw["nodes_nodeids"])
    return _Attributes(
        values=list(raw["nodes_values"]),
        missing_true=list(raw["nodes_missing_value_tracks_true"]),
        features=list(raw["nodes_featureids"]),
        modes=list(raw["nodes_modes"]),
        true_ids=list(raw["nodes_truenodeids"]),
        false_ids=list(raw["nodes_falsenodeids"]),
        position={(t, n): i for i, (t, n) in enumerate(zip(tree_ids, node_ids, strict=True))},
    )


def _write_attributes(node: onnx.NodeProto, attributes: _Attributes) -> None:
    """Replace the corrected attributes on the graph node."""
    from onnx import helper

    replacements = {
        "nodes_values": [float(v) for v in attributes.values],
        "nodes_missing_value_tracks_true": attributes.missing_true,
    }
    kept = [a for a in node.attribute if a.name not in replacements]
    del node.attribute[:]
    node.attribute.extend(kept)
    node.attribute.extend(helper.make_attribute(name, value) for name, value in replacements.items())


def align_with_lightgbm(model: onnx.ModelProto, trees: list[dict[str, Any]]) -> dict[str, int]:
    """Walk each ONNX tree beside its LightGBM tree and set thresholds and NaN branches as LightGBM decides."""
    node = _tree_node(model)
    attributes = _read_attributes(node)
    moved = flipped = splits = 0
    for tree_id, root in enumerate(trees):
        if not _is_split(root):
            continue
        pending = [(0, root)]
        while pending:
            onnx_id, dumped = pending.pop()
            at = attributes.position[(tree_id, onnx_id)]
            if not _is_split(dumped):
                if attributes.modes[at] != b"LEAF":
                    raise ExportError(f"tree {tree_id} node {onnx_id}: ONNX has a split where LightGBM has a leaf")
                continue
            _check_split(dumped)
            if attributes.modes[at] != b"BRANCH_LEQ" or attributes.features[at] != dumped["split_feature"]:
                raise ExportError(f"tree {tree_id} node {onnx_id}: split does not match LightGBM")
            splits += 1
            exact = float(float32_at_or_below(float(dumped["threshold"])))
            moved += int(np.float32(attributes.values[at]) != np.float32(exact))
            attributes.values[at] = exact
            left = int(nan_goes_left(dumped))
            flipped += int(attributes.missing_true[at] != left)
            attributes.missing_true[at] = left
            pending.append((attributes.true_ids[at], dumped["left_child"]))
            pending.append((attributes.false_ids[at], dumped["right_child"]))
    _write_attributes(node, attributes)
    return {"splits": splits, "thresholds_lowered": moved, "nan_branches_corrected": flipped}


def export_onnx(
    booster: lgb.Booster, n_features: int, model_id: str, correct: bool = True
) -> tuple[onnx.ModelProto, dict[str, int]]:
    """The champion as an ONNX classifier on one float32 input, corrected to route like LightGBM."""
    import onnx
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    model = convert_lightgbm(
        booster,
        name=model_id,
        initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
        target_opset=TARGET_OPSET,
        zipmap=False,
    )
    # ``correct=False`` keeps the plain onnxmltools graph, only to measure what the corrections are worth.
    corrections = align_with_lightgbm(model, tree_structures(booster)) if correct else {}
    # onnxmltools gathers the opsets in a set, whose order follows Python's per-process string hashing; sorting
    # them makes the file, and so its SHA-256 in the card, the same on every run.
    imports = sorted((entry.domain, entry.version) for entry in model.opset_import)
    del model.opset_import[:]
    model.opset_import.extend(onnx.helper.make_opsetid(domain, version) for domain, version in imports)
    onnx.helper.set_model_props(model, {"model_id": model_id})
    onnx.checker.check_model(model, full_check=True)
    return model, corrections


@dataclass(frozen=True)
class SaabasTables:
    """Per tree and leaf index, each feature's path contribution; and the bias (sum of the roots' means)."""

    leaf_contributions: np.ndarray
    bias: float


def _subtree_mean(node: dict[str, Any], means: dict[int, float]) -> tuple[float, float]:
    """Fill ``means`` with each node's mean leaf value weighted by training counts; return (mean, count)."""
    if not _is_split(node):
        means[id(node)] = float(node["leaf_value"])
        return float(node["leaf_value"]), float(node.get("leaf_count", 0))
    left_mean, left_count = _subtree_mean(node["left_child"], means)
    right_mean, right_count = _subtree_mean(node["right_child"], means)
    total = left_count + right_count
    # A node no bagged row reached has no count to weigh by; give both children equal say.
    left_weight, right_weight = (left_count, right_count) if total > 0 else (1.0, 1.0)
    mean = (left_mean * left_weight + right_mean * right_weight) / (left_weight + right_weight)
    means[id(node)] = mean
    return mean, total


def saabas_tables(trees: list[dict[str, Any]], n_features: int) -> SaabasTables:
    """Each leaf's per-feature contributions (float64), so a leaf's row plus its tree's root mean is its value."""
    most_leaves = max(_count_leaves(root) for root in trees)
    table = np.zeros((len(trees), most_leaves, n_features), dtype=np.float64)
    bias = 0.0
    for tree_id, root in enumerate(trees):
        means: dict[int, float] = {}
        root_mean, _ = _subtree_mean(root, means)
        bias += root_mean
        pending = [(root, np.zeros(n_features))]
        while pending:
            node, path = pending.pop()
            if not _is_split(node):
                table[tree_id, int(node.get("leaf_index", 0))] = path
                continue
            for child in (node["left_child"], node["right_child"]):
                step = path.copy()
                step[node["split_feature"]] += means[id(child)] - means[id(node)]
                pending.append((child, step))
    return SaabasTables(leaf_contributions=table, bias=bias)


def _count_leaves(node: dict[str, Any]) -> int:
    """Number of leaves under a node."""
    if not _is_split(node):
        return 1
    return _count_leaves(node["left_child"]) + _count_leaves(node["right_child"])


def champion_graph(trees: list[dict[str, Any]], tables: SaabasTables, model_id: str) -> onnx.ModelProto:
    """The champion as one graph: ``contributions`` [contributions…, bias] per row and ``probabilities``.

    A TreeEnsembleRegressor with the champion's splits writes each leaf's contributions; their row sum is the
    margin, and ``probabilities`` is [1 - sigmoid(margin), sigmoid(margin)] as a classifier export gives it.
    """
    import onnx
    from onnx import TensorProto, helper

    n_features = tables.leaf_contributions.shape[2]
    attributes: dict[str, Any] = {
        key: []
        for key in (
            "nodes_treeids",
            "nodes_nodeids",
            "nodes_featureids",
            "nodes_modes",
            "nodes_values",
            "nodes_truenodeids",
            "nodes_falsenodeids",
            "nodes_missing_value_tracks_true",
            "target_treeids",
            "target_nodeids",
            "target_ids",
            "target_weights",
        )
    }
    # onnxruntime drops base_values for a target no leaf ever writes, so the bias rides on every leaf of the
    # first tree instead; a tree with no split only shifts every row alike, which the bias already carries.
    bias = tables.bias
    for tree_id, root in enumerate(trees):
        if _is_split(root):
            _emit_tree(tree_id, root, tables.leaf_contributions[tree_id], bias, attributes)
            bias = 0.0
    nodes = [
        helper.make_node(
            "TreeEnsembleRegressor",
            [INPUT_NAME],
            [CONTRIBUTIONS_OUTPUT],
            domain="ai.onnx.ml",
            n_targets=n_features + 1,
            aggregate_function="SUM",
            post_transform="NONE",
            **attributes,
        ),
        helper.make_node("ReduceSum", [CONTRIBUTIONS_OUTPUT, "across_features"], ["margin"], keepdims=1),
        helper.make_node("Sigmoid", ["margin"], ["p_bad"]),
        helper.make_node("Sub", ["one", "p_bad"], ["p_good"]),
        helper.make_node("Concat", ["p_good", "p_bad"], [PROBABILITIES_OUTPUT], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        model_id,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n_features])],
        [
            helper.make_tensor_value_info(PROBABILITIES_OUTPUT, TensorProto.FLOAT, [None, 2]),
            helper.make_tensor_value_info(CONTRIBUTIONS_OUTPUT, TensorProto.FLOAT, [None, n_features + 1]),
        ],
        initializer=[
            helper.make_tensor("across_features", TensorProto.INT64, [1], [1]),
            helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", TARGET_OPSET), helper.make_opsetid("ai.onnx.ml", 1)],
        producer_name="infra.model",
        ir_version=8,
    )
    helper.set_model_props(model, {"model_id": model_id})
    onnx.checker.check_model(model, full_check=True)
    return model


def _emit_tree(
    tree_id: int, root: dict[str, Any], leaves: np.ndarray, bias: float, attributes: dict[str, list[Any]]
) -> None:
    """Append one tree's nodes and its leaves' non-zero contributions as targets, the bias (if any) as the last."""
    next_id = 0
    pending = [(root, 0)]
    while pending:
        node, node_id = pending.pop()
        attributes["nodes_treeids"].append(tree_id)
        attributes["nodes_nodeids"].append(node_id)
        if not _is_split(node):
            for key, value in (("featureids", 0), ("values", 0.0), ("truenodeids", 0), ("falsenodeids", 0)):
                attributes[f"nodes_{key}"].append(value)
            attributes["nodes_modes"].append("LEAF")
            attributes["nodes_missing_value_tracks_true"].append(0)
            row = np.r_[leaves[int(node.get("leaf_index", 0))], bias]
            for target in np.flatnonzero(row):
                attributes["target_treeids"].append(tree_id)
                attributes["target_nodeids"].append(node_id)
                attributes["target_ids"].append(int(target))
                attributes["target_weights"].append(float(row[target]))
            continue
        _check_split(node)
        left_id, right_id = next_id + 1, next_id + 2
        next_id += 2
        attributes["nodes_featureids"].append(int(node["split_feature"]))
        attributes["nodes_modes"].append("BRANCH_LEQ")
        attributes["nodes_values"].append(float(float32_at_or_below(float(node["threshold"]))))
        attributes["nodes_truenodeids"].append(left_id)
        attributes["nodes_falsenodeids"].append(right_id)
        attributes["nodes_missing_value_tracks_true"].append(int(nan_goes_left(node)))
        pending.append((node["left_child"], left_id))
        pending.append((node["right_child"], right_id))


def threshold_probes(trees: list[dict[str, Any]], base_rows: np.ndarray) -> np.ndarray:
    """Rows with one feature set to each float32 either side of a split threshold: the values rounding can flip."""
    sides: set[tuple[int, float]] = set()
    for root in trees:
        pending = [root]
        while pending:
            node = pending.pop()
            if not _is_split(node):
                continue
            below = float32_at_or_below(float(node["threshold"]))
            feature = int(node["split_feature"])
            sides.add((feature, float(below)))
            sides.add((feature, float(np.nextafter(below, np.float32(np.inf)))))
            pending.extend((node["left_child"], node["right_child"]))
    probes = np.array(base_rows[np.arange(len(sides)) % base_rows.shape[0]])
    for row, (feature, value) in enumerate(sorted(sides)):
        probes[row, feature] = value
    return probes


def saabas_reference(booster: lgb.Booster, tables: SaabasTables, rows: np.ndarray) -> np.ndarray:
    """Contributions and bias in float64 from LightGBM's own leaf assignment, to check the graph against."""
    leaves = np.asarray(booster.predict(rows, pred_leaf=True), dtype=np.int64)
    total = np.zeros((rows.shape[0], tables.leaf_contributions.shape[2]), dtype=np.float64)
    for tree_id in range(leaves.shape[1]):
        total += tables.leaf_contributions[tree_id, leaves[:, tree_id]]
    return np.column_stack([total, np.full(rows.shape[0], tables.bias)])
