# Benchmarks (bench/README.md): ours and the reference on the same data, in one run, printing
# "METRIC: <what>: ours X UNIT, reference Y UNIT, ratio R". One line per bench script.
PY := .venv/bin/python

.PHONY: bench bench-quick venv

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
