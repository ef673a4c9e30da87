"""reduce ops (bindings in src/python/ops_reduce.rs)."""

__all__ = []
