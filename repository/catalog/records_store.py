"""The records catalog's API in one place: errors, checks and finding records (``records_core``),
hồ sơ and tài liệu registration (``records_register``), restrictions, access changes and search
(``records_access``), agencies, fonds, declared totals (``records_import``) and retention schedules
(``retention_schedules``). Callers import from here; the other modules build on records_core only,
so there is no import circle."""

from __future__ import annotations

from repository.catalog.records_access import (
    access_changes as access_changes,
)
from repository.catalog.records_access import (
    active_restrictions as active_restrictions,
)
from repository.catalog.records_access import (
    change_access as change_access,
)
from repository.catalog.records_access import (
    lift_restriction as lift_restriction,
)
from repository.catalog.records_access import (
    restrict as restrict,
)
from repository.catalog.records_access import (
    restrictions_due_for_review as restrictions_due_for_review,
)
from repository.catalog.records_access import (
    search_records as search_records,
)
from repository.catalog.records_access import (
    stricter_documents as stricter_documents,
)
from repository.catalog.records_core import (
    MAINTENANCE_YEARS as MAINTENANCE_YEARS,
)
from repository.catalog.records_core import (
    OTHER_PERIOD as OTHER_PERIOD,
)
from repository.catalog.records_core import (
    PERMANENT as PERMANENT,
)
from repository.catalog.records_core import (
    PUBLIC_MODE as PUBLIC_MODE,
)
from repository.catalog.records_core import (
    UNKNOWN_ELEMENTS as UNKNOWN_ELEMENTS,
)
from repository.catalog.records_core import (
    VIETNAM_TZ as VIETNAM_TZ,
)
from repository.catalog.records_core import (
    Problem as Problem,
)
from repository.catalog.records_core import (
    RecordNotFoundError as RecordNotFoundError,
)
from repository.catalog.records_core import (
    RecordsError as RecordsError,
)
from repository.catalog.records_core import (
    T as T,
)
from repository.catalog.records_core import (
    check_agency as check_agency,
)
from repository.catalog.records_core import (
    code_label as code_label,
)
from repository.catalog.records_core import (
    dossiers_for_aip as dossiers_for_aip,
)
from repository.catalog.records_core import (
    find_agency as find_agency,
)
from repository.catalog.records_core import (
    find_document as find_document,
)
from repository.catalog.records_core import (
    find_dossier as find_dossier,
)
from repository.catalog.records_core import (
    first_day as first_day,
)
from repository.catalog.records_core import (
    last_day as last_day,
)
from repository.catalog.records_core import (
    maintenance_codes as maintenance_codes,
)
from repository.catalog.records_core import (
    mode_codes as mode_codes,
)
from repository.catalog.records_core import (
    mode_rank as mode_rank,
)
from repository.catalog.records_core import (
    parse_day as parse_day,
)
from repository.catalog.records_core import (
    resolve_target as resolve_target,
)
from repository.catalog.records_import import (
    DECLARED_METRICS as DECLARED_METRICS,
)
from repository.catalog.records_import import (
    add_agency as add_agency,
)
from repository.catalog.records_import import (
    add_fonds as add_fonds,
)
from repository.catalog.records_import import (
    find_fonds as find_fonds,
)
from repository.catalog.records_import import (
    import_agencies_csv as import_agencies_csv,
)
from repository.catalog.records_import import (
    import_declared_totals_csv as import_declared_totals_csv,
)
from repository.catalog.records_import import (
    list_agencies as list_agencies,
)
from repository.catalog.records_import import (
    list_declared_totals as list_declared_totals,
)
from repository.catalog.records_import import (
    list_fonds as list_fonds,
)
from repository.catalog.records_import import (
    set_declared_total as set_declared_total,
)
from repository.catalog.records_register import (
    number_search as number_search,
)
from repository.catalog.records_register import (
    register_records as register_records,
)
from repository.catalog.retention_schedules import (
    list_schedules as list_schedules,
)
from repository.catalog.retention_schedules import (
    load_retention_schedule as load_retention_schedule,
)

__all__ = [
    "DECLARED_METRICS",
    "MAINTENANCE_YEARS",
    "OTHER_PERIOD",
    "PERMANENT",
    "PUBLIC_MODE",
    "UNKNOWN_ELEMENTS",
    "VIETNAM_TZ",
    "Problem",
    "RecordNotFoundError",
    "RecordsError",
    "T",
    "access_changes",
    "active_restrictions",
    "add_agency",
    "add_fonds",
    "change_access",
    "check_agency",
    "code_label",
    "dossiers_for_aip",
    "find_agency",
    "find_document",
    "find_dossier",
    "find_fonds",
    "first_day",
    "import_agencies_csv",
    "import_declared_totals_csv",
    "last_day",
    "lift_restriction",
    "list_agencies",
    "list_declared_totals",
    "list_fonds",
    "list_schedules",
    "load_retention_schedule",
    "maintenance_codes",
    "mode_codes",
    "mode_rank",
    "number_search",
    "parse_day",
    "register_records",
    "resolve_target",
    "restrict",
    "restrictions_due_for_review",
    "search_records",
    "set_declared_total",
    "stricter_documents",
]
