"""Former name of :mod:`facelib.verification` (the verification pipeline), kept so that existing imports work:
``facelib.benchmark`` *is* that module (the same object), so attributes set on one are seen by the other."""

import sys

from . import verification

sys.modules[__name__] = verification
