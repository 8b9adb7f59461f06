"""A scripted stand-in for SecretsManagerCalls: records calls, answers from a table."""

from botocore.exceptions import ClientError


def client_error(code, message="scripted", operation="Op"):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeCalls:
    def __init__(self, answers=None):
        self.answers = answers or {}
        self.made = []

    def __call__(self, operation, **params):
        self.made.append((operation, params))
        answer = self.answers.get(operation, {})
        if callable(answer):
            answer = answer(**params)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def mask(self, text):
        return text

    def operations(self):
        return [made[0] for made in self.made]
