"""The operator's commands: run the service and its workers, manage accounts, keys and credits."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from roughy import migrate
from roughy.accounts import service as accounts
from roughy.cli.base import app, console
from roughy.config import Settings
from roughy.credits import ledger
from roughy.credits import service as credits
from roughy.db import Database
from roughy.errors import ApiError
from roughy.logs import configure_logging

accounts_app = typer.Typer(help="Accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
credits_app = typer.Typer(help="Credits.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(credits_app, name="credits")

LOCAL_EMAIL = "local@roughy.localhost"
LOCAL_KEY_FILE = "local-api-key"


def _database(settings: Settings) -> Database:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url)
    return Database(settings.resolved_database_url)


def bootstrap_local_account(settings: Settings) -> Path | None:
    """On a fresh install, one local account and its key, written to a file in the data dir."""
    from sqlalchemy import func, select

    from roughy.accounts.models import Account

    db = _database(settings)
    try:
        with db.session() as session:
            if session.scalar(select(func.count()).select_from(Account)):
                return None
            account = accounts.create_account(
                session, LOCAL_EMAIL, "Local", credits=settings.signup_credits
            )
            minted = accounts.mint_key(session, account, "local")
        path = settings.data_dir / LOCAL_KEY_FILE
        path.write_text(minted.plaintext + "\n")
        path.chmod(0o600)
        return path
    finally:
        db.dispose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    worker: Annotated[
        bool, typer.Option(help="Run a job worker beside the API (off: run `roughy worker`s).")
    ] = True,
) -> None:
    """Run the API and a job worker, on the embedded default or the configured parts."""
    if not worker:
        os.environ["ROUGHY_EMBEDDED_WORKER"] = "false"
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = bootstrap_local_account(settings)
    if key_file is not None:
        console.print(
            f"[bold green]Created a local account.[/] Its API key is in [bold]{key_file}[/]:\n"
            f"  {key_file.read_text().strip()}"
        )
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "roughy.server",
            "--host",
            host or settings.host,
            "--port",
            str(port or settings.port),
        ],
    )


@app.command("worker")
def worker_command() -> None:
    """Run a job worker alone: processing and housekeeping, from the configured queue."""
    from roughy.jobs import main

    main()


@accounts_app.command("create")
def accounts_create(
    email: str, name: Annotated[str | None, typer.Option(help="Display name.")] = None
) -> None:
    """Create an account (with the sign-up credits) and print a new API key for it."""
    settings = Settings()
    db = _database(settings)
    try:
        with db.session() as session:
            account = accounts.create_account(session, email, name, credits=settings.signup_credits)
            minted = accounts.mint_key(session, account)
    except ApiError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    console.print(f"Account {account.id} ({account.email})")
    print(minted.plaintext)


@keys_app.command("create")
def keys_create(
    email: str, name: Annotated[str, typer.Option(help="What the key is for.")] = "cli"
) -> None:
    """Mint another API key for an existing account and print it."""
    db = _database(Settings())
    try:
        with db.session() as session:
            minted = accounts.mint_key(session, accounts.find_account(session, email), name)
    except ApiError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    print(minted.plaintext)


@accounts_app.command("list")
def accounts_list() -> None:
    """Every account with its balance."""
    from sqlalchemy import select

    from roughy.accounts.models import Account

    db = _database(Settings())
    try:
        with db.session() as session:
            for account in session.scalars(select(Account).order_by(Account.created_at)):
                balance = ledger.balance(session, account.id)
                print(f"{account.id}  {account.email}  {balance} credits")
    finally:
        db.dispose()


# A negative amount ("-5") is an argument, not an unknown option.
@credits_app.command("grant", context_settings={"ignore_unknown_options": True})
def credits_grant(
    email: str,
    amount: int,
    type_: Annotated[
        str, typer.Option("--type", help="topup, adjustment (may be negative) or refund.")
    ] = "topup",
) -> None:
    """Add credits to an account; waiting assets are activated, oldest first.

    A negative adjustment: ``roughy credits grant EMAIL -5 --type adjustment``.
    """
    from roughy.jobs import register_jobs
    from roughy.queue.jobqueue import JobQueue
    from roughy.transcripts import tasks as transcripts

    settings = Settings()
    db = _database(settings)
    jobs = JobQueue(settings)
    register_jobs(jobs)
    try:
        with db.session() as session:
            account = accounts.find_account(session, email)
            activated = credits.grant(session, account, amount, type_)
            balance = ledger.balance(session, account.id)
            if settings.transcribe_on_ready:
                for asset in activated:
                    transcripts.request(jobs, session, asset)
    except ApiError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
        jobs.close()
    for asset in activated:
        console.print(f"asset {asset.id} is ready")
    print(balance)


@credits_app.command("balance")
def credits_balance(email: str) -> None:
    """Print an account's balance."""
    db = _database(Settings())
    try:
        with db.session() as session:
            balance = ledger.balance(session, accounts.find_account(session, email).id)
    except ApiError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    print(balance)
