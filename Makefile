# Long runs on demand; CI runs the fast sets through scripts/test (docs/reliability.md).
#   make soak                   fault soak (50 seeded kills, every outage) and a 30-minute load soak
#   make soak SOAK_MINUTES=5    a shorter load soak; SOAK_SEED=N repeats a fault soak's kill points
SOAK_MINUTES ?= 30
SOAK_SEED ?= $(shell date +%s)
SOAK_KILLS ?= 50

.PHONY: soak soak-faults soak-load
soak: soak-faults soak-load

soak-faults:
	@echo "[soak] fault seed $(SOAK_SEED), $(SOAK_KILLS) kills" >&2
	KHOLUU_SOAK=1 KHOLUU_FAULT_SEED=$(SOAK_SEED) KHOLUU_FAULT_KILLS=$(SOAK_KILLS) scripts/test tests/faults

soak-load:
	scripts/bootstrap --test
	SOAK_MINUTES=$(SOAK_MINUTES) .venv/bin/python bench/soak_load.py --out soak-load.json
