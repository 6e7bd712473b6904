"""Alembic migrations of the catalog. This file exists so that a wheel carries the folder as the
package ``kholuu_migrations`` (see ``preservation/shipped.py``)."""
