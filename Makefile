# The two set-up commands (README): `make notebooks` runs the main job, `make test` the test suite.
# Both install the package and its pinned dependencies first (a no-op when already installed).
PYTHON ?= python3
OUT ?= build/notebooks
NOTEBOOKS ?= $(sort $(wildcard notebooks/*.ipynb))
NOTEBOOK_TIMEOUT ?= 3600

# The data mirror: FACELIB_DATA_MIRROR if set, else ../shared/data where it exists, else the
# official downloads (data/README.md).
ifeq ($(FACELIB_DATA_MIRROR),)
  ifneq ($(wildcard ../shared/data/SHA256SUMS),)
    export FACELIB_DATA_MIRROR := $(abspath ../shared/data)
  endif
endif

.PHONY: setup notebooks test benchmark

setup:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[notebooks,dev,export,train,peers]"

notebooks: setup
	mkdir -p $(OUT)
	$(PYTHON) -m jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=$(NOTEBOOK_TIMEOUT) \
		--output-dir $(OUT) $(NOTEBOOKS)
	$(PYTHON) -m jupyter nbconvert --to html --output-dir $(OUT) $(addprefix $(OUT)/,$(notdir $(NOTEBOOKS)))
	@echo "rendered notebooks: $(OUT)"

test: setup
	$(PYTHON) -m pytest

benchmark: setup
	$(PYTHON) benchmarks/warp.py
