"""The job envelope and runner every long action runs in; crash recovery; the scheduler."""
