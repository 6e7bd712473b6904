.PHONY: soak soak-fuzz

soak: soak-fuzz

# Hostile inputs, long run (docs/reliability.md "Hostile inputs"): atheris over each package
# reader for FUZZ_SECONDS, crashes saved in .fuzz/; then the properties with 5,000 examples each.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= mets eark ead tt05 bag zip tar
soak-fuzz:
	.venv/bin/python -c 'import atheris' 2>/dev/null || .venv/bin/pip install -q 'atheris>=2.3'
	mkdir -p .fuzz
	for t in $(FUZZ_TARGETS); do \
	  .venv/bin/python tests/hostile/fuzz_readers.py $$t -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=2048 -artifact_prefix=.fuzz/$$t- 2>&1 | grep -E 'DONE|Done|ERROR|Test unit|Error' \
	    ; test -z "$$(ls .fuzz/$$t-* 2>/dev/null)" || exit 1; \
	done
	KHOLUU_HYPOTHESIS_EXAMPLES=5000 .venv/bin/pytest -q -n 0 -p no:cacheprovider tests/hostile/test_properties.py
