"""Test-wide settings: the compiled catalog's cache (``policies.registry``) lives in a temporary folder
for the session, not in the user's cache, for this process and the commands the tests run."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_CACHE = tempfile.mkdtemp(prefix="green-award-test-cache-")
os.environ.setdefault("GREEN_AWARD_CACHE_DIR", _CACHE)
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
