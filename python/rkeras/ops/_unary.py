"""unary ops (bindings in src/python/ops_unary.rs)."""

__all__ = []
