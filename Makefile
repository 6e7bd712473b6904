# Benchmarks (bench/README.md): ours and the reference on the same data, in one run, printing
# "METRIC: <what>: ours X UNIT, reference Y UNIT, ratio R". One line per bench script.
PY := .venv/bin/python

.PHONY: bench bench-quick venv soak soak-fuzz soak-faults soak-load

venv:
	@test -x $(PY) || scripts/bootstrap

bench-quick: venv
	$(PY) bench/bench_identify.py --files 1000 --rounds 3
	$(PY) bench/bench_vs_a3m.py --files 100 --normalization off
	$(PY) bench/bench_audit.py local --quick
	bench/with-s3 $(PY) bench/bench_audit.py s3 --quick
	$(PY) bench/bench_public_search.py --rows 20000 --runs 10

bench: venv
	$(PY) bench/bench_identify.py --files 1000 --rounds 5
	$(PY) bench/bench_vs_a3m.py --files 100,1000,10000 --normalization both --big-mb 5000
	$(PY) bench/bench_audit.py local --huge-gb 5
	bench/with-s3 $(PY) bench/bench_audit.py s3
	$(PY) bench/bench_public_search.py --rows 1000000


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

# Long runs on demand; CI runs the fast sets through scripts/test (docs/reliability.md).
#   make soak                   fault soak (50 seeded kills, every outage) and a 30-minute load soak
#   make soak SOAK_MINUTES=5    a shorter load soak; SOAK_SEED=N repeats a fault soak's kill points
SOAK_MINUTES ?= 30
SOAK_SEED ?= $(shell date +%s)
SOAK_KILLS ?= 50

soak: soak-faults soak-load soak-fuzz

soak-faults:
	@echo "[soak] fault seed $(SOAK_SEED), $(SOAK_KILLS) kills" >&2
	KHOLUU_SOAK=1 KHOLUU_FAULT_SEED=$(SOAK_SEED) KHOLUU_FAULT_KILLS=$(SOAK_KILLS) scripts/test tests/faults

soak-load:
	scripts/bootstrap --test
	SOAK_MINUTES=$(SOAK_MINUTES) .venv/bin/python bench/soak_load.py --out soak-load.json
