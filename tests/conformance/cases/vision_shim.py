"""Let torchvision (and timm / transformers, which import it) load on a CPU-only torch.

The package index here has only a CUDA build of torchvision 0.28.0. With the CPU
build of torch its compiled extension (``torchvision/_C.so``) cannot load, so the
``torchvision::nms`` and ``torchvision::qnms`` operators never get a schema, and
``import torchvision`` fails in ``_meta_registrations.py`` ("operator
torchvision::nms does not exist"). The models in this corpus never call those
operators; defining their schemas (no kernels) is enough for the import to work.

Import this module before torchvision, timm or transformers. It does nothing when
torchvision is not installed or when its extension loads (a matching build): the
extension is loaded here the same way torchvision loads it, and only if that
fails are the two schemas defined. See docs/testing.md for how to drop the shim.
"""

import glob
import importlib.machinery
import importlib.util
import os

import torch

SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)

library = None  # the torch.library.Library holding the schemas; must stay referenced


def _extension_loads(folder: str) -> bool:
    """Return True when torchvision's compiled extension in ``folder`` loads."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for path in glob.glob(os.path.join(folder, "_C" + suffix)):
            try:
                torch.ops.load_library(path)
                return True
            except OSError:
                return False
    return False


def install() -> None:
    """Define the missing torchvision operator schemas when the extension cannot load."""
    global library
    spec = importlib.util.find_spec("torchvision")
    if library is not None or spec is None or not spec.submodule_search_locations:
        return
    if _extension_loads(spec.submodule_search_locations[0]):
        return
    library = torch.library.Library("torchvision", "DEF")
    for schema in SCHEMAS:
        library.define(schema)


install()
