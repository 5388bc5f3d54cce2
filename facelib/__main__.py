"""``python -m facelib`` (what ``torchrun -m facelib train ...`` runs)."""

import sys

from .cli import main

sys.exit(main())
