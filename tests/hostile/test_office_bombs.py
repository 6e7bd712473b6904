from tests.hostile.corpus import Case

CASES: list[Case] = []
