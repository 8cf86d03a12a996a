"""The sandbox's built-in credentials, one pair per account it serves (pure: shared by console and sandbox).

The built-in ``sandbox`` key acts in the sandbox's default account (the monitoring account of a fleet
sandbox), as it always has. A fleet sandbox (``sandbox.accounts`` in its config) also takes the key
``sandbox-<account id>`` for each account it serves: a request signed with it acts in that account, as a
request signed with an account's own credentials does on AWS. The secret is not checked (without
``--auth`` the sandbox accepts any); :data:`SECRET` is what the console sends.
"""
from __future__ import annotations

DEFAULT_KEY = "sandbox"
SECRET = "sandbox"
_PREFIX = "sandbox-"


def account_credentials(account_id: str | None = None) -> tuple[str, str]:
    """(access key id, secret) acting in ``account_id`` on a fleet sandbox (None: its default account)."""
    return (DEFAULT_KEY if account_id is None else f"{_PREFIX}{account_id}"), SECRET


def account_of_key(access_key: str | None) -> str | None:
    """The account a built-in per-account key names (``sandbox-200000000001`` → ``200000000001``), or None."""
    if not access_key or not access_key.startswith(_PREFIX):
        return None
    account = access_key[len(_PREFIX):]
    return account if len(account) == 12 and account.isdigit() and account.isascii() else None
