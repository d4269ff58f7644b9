"""The HTTP contract of ../shared/api.md: pydantic models, the error body, auth helpers, one resolver factory."""
