# Benchmarks (bench/README.md): ours and the reference on the same data, in one run, printing
# "METRIC: <what>: ours X UNIT, reference Y UNIT, ratio R". One line per bench script.
PY := .venv/bin/python

.PHONY: bench bench-quick venv

venv:
	@test -x $(PY) || scripts/bootstrap

bench-quick: venv
	$(PY) bench/bench_identify.py --files 1000 --rounds 3
	$(PY) bench/bench_vs_a3m.py --files 100 --normalization off

bench: venv
	$(PY) bench/bench_identify.py --files 1000 --rounds 5
	$(PY) bench/bench_vs_a3m.py --files 100,1000,10000 --normalization both --big-mb 5000
