"""binary ops (bindings in src/python/ops_binary.rs)."""

__all__ = []
