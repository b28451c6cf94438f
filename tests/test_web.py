import base64
import json
import shutil

import numpy as np
import pytest
import torch

from lenet_course import checkpoints, web
from lenet_course.checkpoints import (
    CheckpointError,
    load_pretrained,
    pretrained_metadata,
)


def test_exported_weights_are_the_checkpoint_tensors():
    tensors = web.export_weights("lenet5")
    state = load_pretrained("lenet5").state_dict()
    assert set(tensors) == set(state)
    for name, tensor in tensors.items():
        values = np.frombuffer(base64.b64decode(tensor["data"]), dtype="<f4").reshape(tensor["shape"])
        assert torch.equal(torch.from_numpy(values.copy()), state[name]), name


def test_the_site_data_file_is_a_script_with_everything_the_page_needs(tmp_path, mnist):
    path = web.write_site_data(tmp_path)
    text = path.read_text()
    assert path.name == "lenet5_data.js" and text.startswith("window.LENET5_DATA = ")
    data = json.loads(text[len("window.LENET5_DATA = "):].rstrip().rstrip(";"))
    assert data["checkpoint"]["sha256"] == pretrained_metadata("lenet5")["sha256"]
    assert [s["label"] for s in data["samples"]] == list(range(10))
    for sample in data["samples"]:
        assert len(sample["pixels"]) == 784 and int(mnist.y_test[sample["index"]]) == sample["label"]


def test_export_refuses_a_tampered_checkpoint(tmp_path, monkeypatch):
    folder = tmp_path / "pretrained"
    shutil.copytree(checkpoints.PRETRAINED_DIR, folder)
    weights = folder / "lenet5.pt"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(checkpoints, "PRETRAINED_DIR", folder)
    with pytest.raises(CheckpointError, match="SHA-256"):
        web.export_weights("lenet5")
