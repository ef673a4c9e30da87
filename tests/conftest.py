import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "rkeras",
    max_examples=int(os.environ.get("RKERAS_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("rkeras")


import pytest


@pytest.fixture(autouse=True)
def _fresh_session():
    """Every test starts with Keras's auto-naming counters at zero (`dense`, not `dense_7`)."""
    import rkeras

    rkeras.backend.clear_session(free_memory=False)
    yield
