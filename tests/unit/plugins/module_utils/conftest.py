"""Shared builders for module_utils unit tests."""

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import GENERATE_OPTIONS
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import SECRET_ITEM_OPTIONS
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import set_module_argument_spec


def _defaults(spec):
    return {key: option.get("default") for key, option in spec.items()}


@pytest.fixture
def make_params():
    """Module params as AnsibleModule would hand them over, defaults filled in."""

    def build(**overrides):
        params = _defaults(set_module_argument_spec())
        secrets = overrides.pop("secrets", [])
        params["secrets"] = [dict(_defaults(SECRET_ITEM_OPTIONS), **item) for item in secrets]
        for key in ("generate",):
            if overrides.get(key) is not None:
                overrides[key] = dict(_defaults(GENERATE_OPTIONS), **overrides[key])
        for item in params["secrets"]:
            if item.get("generate") is not None:
                item["generate"] = dict(_defaults(GENERATE_OPTIONS), **item["generate"])
        params.update(overrides)
        return params

    return build
