"""tidu.io: the one place where tidu reads and writes files.

- ``atomic_write(path, data)``: the target is always the old or the new file, never a partial
  one; leftovers of killed writes are removed by the next write into the folder.
- ``save_tensors`` / ``load_tensors``: named arrays as safetensors (the ``safetensors``
  library, ``pip install tidu[safetensors]``, is needed to write; reading needs nothing) or,
  for reading, tidu's older pickle-free ``.npz``. Every file is validated in full against its
  real size before any array is read, and nothing is ever unpickled.
- ``FileFormatError``: every refusal; its message names the file and what is wrong.
"""

from .atomic import atomic_write, remove_stale
from .errors import FileFormatError
from .tensors import load_tensors, save_tensors

__all__ = ["FileFormatError", "atomic_write", "load_tensors", "remove_stale", "save_tensors"]
