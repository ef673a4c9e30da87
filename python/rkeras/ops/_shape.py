"""shape ops (bindings in src/python/ops_shape.rs)."""

__all__ = []
