"""A schemathesis check of our own, loaded through schemathesis.toml (``hooks``).

``positive_data_acceptance`` is told to accept a 422 (schemathesis.toml) because a request
can match the OpenAPI document and still break a business rule the document cannot state
(a credit code's check digit, a duplicate facility code, "only utilisers post demands"):
the service refuses those with ``{"error": {"code": "validation_failed"}}``. This check keeps
the built-in check's point for everything else: a schema-valid request refused by the
*schema layer* (webargs/marshmallow, code ``unprocessable_entity``) means the document
promises more than the validator accepts, and fails the run.
"""
import schemathesis


@schemathesis.check
def schema_layer_accepts_valid_data(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        code = response.json()["error"]["code"]
    except Exception:  # noqa: BLE001 - any other body is a failure too
        code = None
    if code != "validation_failed":
        raise AssertionError(
            f"Schema-valid request refused by the schema layer (422 {code!r}): the OpenAPI document "
            f"is looser than the validator. Body: {response.text[:300]}")
    return None
