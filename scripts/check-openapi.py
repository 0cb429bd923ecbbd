#!/usr/bin/env python3
"""Validates the operator API's OpenAPI document with openapi-spec-validator (OpenAPI 3.1 schema).
That every route is documented, and every documented operation routed, is a Swift test
(OpenAPIContractTests)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".tools", "python"))
from openapi_spec_validator import validate  # noqa: E402
from openapi_spec_validator.readers import read_from_filename  # noqa: E402

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "Controller", "Resources", "openapi.yaml")
spec, _ = read_from_filename(path)
try:
    validate(spec)
except Exception as error:  # noqa: BLE001 - any validation error is the finding
    print(f"FAIL openapi.yaml: {str(error).splitlines()[0]}")
    sys.exit(1)
operations = sum(1 for item in spec["paths"].values() for method in item if method in ("get", "put", "post", "delete", "patch"))
print(f"openapi: valid OpenAPI {spec['openapi']}, {len(spec['paths'])} paths, {operations} operations")
