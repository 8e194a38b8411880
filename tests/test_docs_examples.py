"""The `Example:` blocks in the docstrings run and print what they say (as kornia runs its own)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import colorgan.color

# every package whose docstrings carry runnable examples
DOCUMENTED = [colorgan.color]


def modules(package: ModuleType) -> list[str]:
    names = [package.__name__]
    names += [info.name for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")]
    return sorted(names)


# single modules with examples (colorgan.grids, models.losses and modules.nonfinite: tests/test_grids.py)
MODULES = [name for package in DOCUMENTED for name in modules(package)] + ["colorgan.atomic"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    results = doctest.testmod(module, optionflags=flags, verbose=False, report=True)
    assert results.attempted > 0, f"{name} has no runnable Example: block"
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples in {name} failed"


def test_every_color_space_and_contract_method_shows_an_example() -> None:
    from colorgan.color import ColorSpace, available_colorspaces, get_colorspace, rgb_to_gray

    documented = [type(get_colorspace(name)) for name in available_colorspaces()]
    documented += [
        ColorSpace.split,
        ColorSpace.merge,
        ColorSpace.luma_from_gray,
        ColorSpace.model_input,
        ColorSpace.encode,
        get_colorspace,
        rgb_to_gray,
    ]
    missing = [item.__qualname__ for item in documented if "Example:" not in (item.__doc__ or "")]
    assert not missing, f"no Example: block in {missing}"
