import base64
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from lenet_course import checkpoints, classic, drawing, inputs, web
from lenet_course.checkpoints import (
    CheckpointError,
    load_pretrained,
    pretrained_metadata,
)
from lenet_course.shapes import receptive_fields, trace_shapes
from lenet_course.unitpath import unit_path

PAGE = Path(__file__).resolve().parent.parent / "book" / "try_lenet5.md"


@pytest.mark.parametrize("name", web.NETWORKS)
def test_exported_weights_are_the_checkpoint_tensors(name):
    tensors = web.export_weights(name)
    state = load_pretrained(name).state_dict()
    assert set(tensors) == set(state)
    for key, tensor in tensors.items():
        values = np.frombuffer(base64.b64decode(tensor["data"]), dtype="<f4").reshape(tensor["shape"])
        assert torch.equal(torch.from_numpy(values.copy()), state[key]), key


def read_site_data(path: Path) -> dict:
    text = path.read_text()
    assert path.name == "lenet5_data.js" and text.startswith("window.LENET5_DATA = ")
    return json.loads(text[len("window.LENET5_DATA = "):].rstrip().rstrip(";"))


def test_the_site_data_file_is_a_script_with_everything_the_page_needs(tmp_path, mnist):
    site = read_site_data(web.write_site_data(tmp_path))
    assert list(site["networks"]) == ["lenet5", "lenet5_classic"]
    for name, network in site["networks"].items():
        assert network["checkpoint"]["sha256"] == pretrained_metadata(name)["sha256"]
        assert set(network["tensors"]) == set(load_pretrained(name).state_dict())
    assert [s["label"] for s in site["samples"]] == list(range(10))
    for sample in site["samples"]:
        assert len(sample["pixels"]) == 784 and int(mnist.y_test[sample["index"]]) == sample["label"]


def test_the_numbers_javascript_shares_with_python_come_from_python(tmp_path, mnist):
    """One source: the input sizes, preprocessing constants, layer shapes and receptive fields,
    Table I, the squashing constants and the digit bitmaps are all exported from the package."""
    site = read_site_data(web.write_site_data(tmp_path))
    assert site["constants"] == {
        "MNIST_SIZE": inputs.MNIST_SIZE, "INPUT_SIZE": inputs.INPUT_SIZE, "PAD": inputs.PAD,
        "DIGIT_BOX": drawing.DIGIT_BOX, "INK_THRESHOLD": drawing.INK_THRESHOLD,
        "MNIST_MEAN": inputs.MNIST_MEAN, "MNIST_STD": inputs.MNIST_STD}
    for name, network in site["networks"].items():
        model = load_pretrained(name)
        trace = trace_shapes(model, torch.zeros(1, 1, inputs.INPUT_SIZE, inputs.INPUT_SIZE))
        fields = receptive_fields(model)
        assert [layer["name"] for layer in network["layers"]] == [row.name for row in trace]
        assert [layer["shape"] for layer in network["layers"]] == [list(row.output_shape[1:]) for row in trace]
        assert [layer["kind"] for layer in network["layers"]] == [row.kind for row in trace]
        assert [layer["field"] for layer in network["layers"]] == [{"size": f.size, "jump": f.jump} for f in fields]
    constants = site["networks"]["lenet5_classic"]["constants"]
    assert constants["C3_TABLE"] == [list(row) for row in classic.C3_TABLE]
    assert constants["DIGIT_BITMAPS"] == [list(rows) for rows in classic.DIGIT_BITMAPS]
    assert (constants["A"], constants["S"]) == (classic.A, classic.S)
    assert (constants["PAPER_BACKGROUND"], constants["PAPER_INK"]) == (classic.PAPER_BACKGROUND, classic.PAPER_INK)
    assert site["networks"]["lenet5"]["constants"] == {"activation": "relu"}


def test_the_javascript_repeats_no_size_that_python_exports():
    static = PAGE.parent / "_static"
    for script in ("lenet5.js", "lenet5_classic.js", "lenet5_units.js"):
        code = re.sub(r"//.*|/\*[\s\S]*?\*/", "", (static / script).read_text())  # without comments
        for number in ("28", "32", "784", "400", "120", "84", "1.7159", "1.175", "0.1307", "0.3081"):
            assert not re.search(rf"(?<![\w.]){re.escape(number)}(?![\w.])", code), f"{script} repeats {number}"


def test_the_drawing_page_states_the_packages_numbers():
    text = PAGE.read_text()
    assert f"{classic.A} tanh(2a/3)" in text and f"between −{classic.A}" in text
    assert f"white paper −{abs(classic.PAPER_BACKGROUND)}, black ink {classic.PAPER_INK}" in text
    rows, cols = len(classic.DIGIT_BITMAPS[0]), len(classic.DIGIT_BITMAPS[0][0])
    assert f"fixed {cols}x{rows} bitmap" in text
    assert f"fit a {drawing.DIGIT_BOX}x{drawing.DIGIT_BOX}" in text and f"padded by {inputs.PAD} pixels" in text


def test_export_refuses_a_tampered_checkpoint(tmp_path, monkeypatch):
    folder = tmp_path / "pretrained"
    shutil.copytree(checkpoints.PRETRAINED_DIR, folder)
    weights = folder / "lenet5.pt"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(checkpoints, "PRETRAINED_DIR", folder)
    with pytest.raises(CheckpointError, match="SHA-256"):
        web.export_weights("lenet5")


# --- one unit's arithmetic ----------------------------------------------------------------------

def some_units(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """A few units of a layer: corners and the middle of the first and last maps."""
    if len(shape) == 3 and shape[1] > 1:
        maps, h, w = shape
        return [(0, 0, 0), (maps - 1, h - 1, w - 1), (maps // 2, h // 2, w // 3)]
    n = int(np.prod(shape))
    return [(0,), (n - 1,), (n // 2,)]


def activation(name: str, pre: float) -> float:
    return max(pre, 0.0) if name == "relu" else classic.A * float(np.tanh(classic.S * pre))


@pytest.mark.parametrize("name", web.NETWORKS)
def test_unit_arithmetic_adds_up_to_the_networks_own_values(name):
    model = load_pretrained(name)
    x = torch.randn(1, 1, 32, 32) * 0.8
    with torch.no_grad():
        stages = model.stages(x)
    fields = {f.name: f for f in receptive_fields(model)}
    for layer, values in stages.items():
        for index in some_units(tuple(values.shape[1:])):
            unit = web.unit_arithmetic(model, x, layer, index)
            where = f"{name} {layer} {index}"
            assert unit["value"] == pytest.approx(float(values[0][index]), abs=1e-6), where
            at = index[1:] if len(index) == 3 else (0, 0)
            assert unit["field"] == list(fields[layer].box(*at)), where
            if unit["kind"] == "conv":
                assert len(unit["partials"]) == len(unit["inputs"]) == len(unit["patches"])
                for patch, kernel, products, partial in zip(unit["patches"], unit["kernels"],
                                                            unit["products"], unit["partials"]):
                    assert products == pytest.approx([p * k for p, k in zip(patch, kernel)], abs=1e-6)
                    assert partial == pytest.approx(sum(products), abs=1e-5)
                assert unit["pre"] == pytest.approx(sum(unit["partials"]) + unit["bias"], abs=1e-5)
            elif unit["kind"] == "maxpool":
                assert unit["values"][unit["largest"]] == unit["value"] == max(unit["values"])
            elif unit["kind"] == "subsampling":
                assert unit["pre"] == pytest.approx(sum(unit["values"]) * unit["coefficient"] + unit["bias"])
            elif unit["kind"] == "dense":
                products = [t["product"] for t in unit["top"]]
                assert [abs(p) for p in products] == sorted((abs(p) for p in products), reverse=True)
                assert unit["pre"] == pytest.approx(sum(products) + unit["rest"] + unit["bias"], abs=1e-4)
                if "logits" in unit:
                    assert unit["pre"] == pytest.approx(unit["value"], abs=1e-4)
                    assert unit["winner"] == int(stages["output"].argmax())
            else:
                assert unit["kind"] == "rbf" and unit["distance"] == pytest.approx(-unit["value"], abs=1e-4)
                assert unit["distance"] == pytest.approx(sum(unit["squares"]), abs=1e-4)
                assert unit["winner"] == int(stages["output"].argmax())
            if "activation" in unit:
                assert activation(unit["activation"], unit["pre"]) == pytest.approx(unit["value"], abs=1e-5), where


def test_the_1998_c3_reads_only_the_maps_of_table_one():
    model = load_pretrained("lenet5_classic")
    x = torch.randn(1, 1, 32, 32)
    for o, row in enumerate(classic.C3_TABLE):
        assert web.unit_arithmetic(model, x, "c3", (o, 2, 2))["inputs"] == sorted(row)


def test_unit_arithmetic_is_the_data_flow_chapters_path(mnist):
    """The page's panel and viz.unit_path (chapter 9's figure) do the same arithmetic."""
    model = load_pretrained("lenet5")
    x = mnist.X_test[:1]
    path = unit_path(model, x)
    c1 = web.unit_arithmetic(model, x, "c1", (path.c1_map, *path.c1_at))
    assert c1["pre"] == pytest.approx(path.c1_pre, abs=1e-5)
    assert c1["kernels"][0] == pytest.approx(path.kernel.flatten().tolist())
    s2 = web.unit_arithmetic(model, x, "s2", (path.c1_map, *path.s2_at))
    assert s2["values"] == pytest.approx(path.s2_window.flatten().tolist())
    c3 = web.unit_arithmetic(model, x, "c3", (path.c3_map, *path.c3_at))
    assert c3["partials"] == pytest.approx(path.c3_per_input.tolist(), abs=1e-5)
    assert web.unit_arithmetic(model, x, "s4", (path.c3_map, *path.s4_at))["value"] == pytest.approx(path.s4)
    assert web.unit_arithmetic(model, x, "f5", (path.f5_unit,))["pre"] == pytest.approx(path.f5_pre, abs=1e-4)
    assert web.unit_arithmetic(model, x, "f6", (path.f6_unit,))["pre"] == pytest.approx(path.f6_pre, abs=1e-4)
    output = web.unit_arithmetic(model, x, "output", (path.output_class,))
    assert output["pre"] == pytest.approx(path.logit, abs=1e-4)
    assert output["probabilities"][path.output_class] == pytest.approx(path.probability, abs=1e-6)
