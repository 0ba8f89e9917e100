"""Datasets under faults: missing files and failed downloads end in one line with the remedy."""

from __future__ import annotations

import pytest
from faults import one_line

from lrgap_nb import data

pytestmark = pytest.mark.usefixtures("isolated_root")


def test_missing_dataset_is_one_line_with_folder_files_and_remedy(isolated_root):
    with pytest.raises(data.DataNotFoundError) as err:
        data.require_dataset("timit", isolated_root / "none", download=True)  # never downloadable
    assert one_line(str(err.value)).startswith(
        f"dataset files missing in {isolated_root / 'none' / 'timit'}"
    )
    assert "LDC93S1" in str(err.value)
    data.require_dataset("mnist", isolated_root / "none", download=True)  # a download may fetch it


def test_failed_download_is_one_line(isolated_root, monkeypatch):
    def offline(root, download, normalise):
        if download:
            raise RuntimeError("Error downloading x.gz:\nTried https://a/, got:\n<urlopen error>")
        data.MNIST_FILES.require(root)

    spec = data.DatasetSpec("offline_mnist", 10, offline, data.MNIST_FILES)
    monkeypatch.setitem(data.DATASETS, "offline_mnist", spec)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load("offline_mnist", isolated_root / "none", download=True)
    assert "Downloading failed (RuntimeError: Error downloading x.gz: Tried" in one_line(
        str(err.value)
    )
