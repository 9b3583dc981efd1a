"""Accounts and their API keys: creation, minting, revocation, and authentication."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from roughy.accounts.models import Account, ApiKey
from roughy.credits.models import LedgerEntry
from roughy.db import owned, paginate, utcnow
from roughy.errors import ApiError, not_found

KEY_PREFIX_LEN = 11  # "sk_" and 8 characters: enough to find the row, too little to guess
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class MintedKey:
    key: ApiKey
    plaintext: str


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


@dataclass(frozen=True)
class KeyLookup:
    """How a presented key is found: its row by prefix, then its hash compared in constant time."""

    prefix: str
    digest: str

    def matches(self, key_hash: str) -> bool:
        return hmac.compare_digest(key_hash, self.digest)


def key_lookup(plaintext: str) -> KeyLookup | None:
    """None for text that cannot be a key."""
    if not plaintext.startswith("sk_") or len(plaintext) < KEY_PREFIX_LEN + 8:
        return None
    return KeyLookup(plaintext[:KEY_PREFIX_LEN], _hash(plaintext))


def last_use_is_stale(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a key's ``last_used_at`` is worth a write (it is kept to the minute)."""
    return last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION


def create_account(
    session: Session, email: str, name: str | None = None, *, credits: int = 0
) -> Account:
    """A new account, with ``credits`` granted to start with."""
    email = email.strip().lower()
    if session.scalar(select(Account).where(Account.email == email)) is not None:
        raise ApiError("conflict", f"An account with the email {email} exists already.")
    account = Account(email=email, name=name)
    session.add(account)
    session.flush()
    if credits:
        session.add(LedgerEntry(account_id=account.id, type="adjustment", delta=credits))
    return account


def find_account(session: Session, email: str) -> Account:
    account = session.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None:
        raise not_found("Account")
    return account


def mint_key(session: Session, account: Account, name: str = "default") -> MintedKey:
    plaintext = "sk_" + secrets.token_urlsafe(32)
    key = ApiKey(
        account_id=account.id,
        name=name,
        prefix=plaintext[:KEY_PREFIX_LEN],
        key_hash=_hash(plaintext),
    )
    session.add(key)
    session.flush()
    return MintedKey(key, plaintext)


def list_keys(
    session: Session, account: Account, limit: int, offset: int
) -> tuple[list[ApiKey], int]:
    return paginate(session, ApiKey, [ApiKey.account_id == account.id], limit, offset)


def revoke_key(session: Session, account: Account, key_id: str) -> None:
    """Idempotent: revoking a revoked key changes nothing; another account's key is not found."""
    key = owned(session, ApiKey, key_id, account.id, "API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()


def authenticate(session: Session, plaintext: str) -> Account | None:
    """The account of a live key, comparing hashes in constant time."""
    lookup = key_lookup(plaintext)
    if lookup is None:
        return None
    candidates = session.scalars(select(ApiKey).where(ApiKey.prefix == lookup.prefix)).all()
    match = None
    for key in candidates:
        if lookup.matches(key.key_hash):
            match = key
    if match is None or match.revoked_at is not None:
        return None
    now = utcnow()
    if last_use_is_stale(match.last_used_at, now):
        match.last_used_at = now
    return session.get(Account, match.account_id)
