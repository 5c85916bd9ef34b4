"""Pure article processing: bytes and text in, plain data out.

Nothing here performs I/O, reads the environment or imports the worker shell; the
import-linter contract in pyproject.toml and tests/unit/test_boundaries.py keep it so.
"""

PIPELINE_VERSION = "1"
