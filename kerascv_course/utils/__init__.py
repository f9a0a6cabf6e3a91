"""Small helpers used across sub-packages (file writing, logging)."""
