"""Projects: the rules for creating, renaming, archiving and deleting them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from roughy.accounts.models import Account
from roughy.assets import service as assets
from roughy.db import paginate, utcnow
from roughy.errors import not_found
from roughy.projects.models import Project


def create(session: Session, account: Account, name: str) -> Project:
    project = Project(account_id=account.id, name=name)
    session.add(project)
    session.flush()
    return project


def get(
    session: Session, account: Account, project_id: str, *, for_update: bool = False
) -> Project:
    query = select(Project).where(Project.id == project_id, Project.account_id == account.id)
    if for_update:
        query = query.with_for_update()
    project = session.scalar(query)
    if project is None:
        raise not_found("Project")
    return project


def list_(
    session: Session, account: Account, state: str, limit: int, offset: int
) -> tuple[list[Project], int]:
    where = [Project.account_id == account.id, Project.state == state]
    return paginate(session, Project, where, limit, offset)


def update(
    session: Session, account: Account, project_id: str, name: str | None, state: str | None
) -> Project:
    project = get(session, account, project_id)
    now = utcnow()
    if name is not None:
        project.name = name
    if state is not None and state != project.state:
        project.state = state
        project.archived_at = now if state == "archived" else None
    project.updated_at = now
    return project


def delete(
    session: Session,
    account: Account,
    project_id: str,
    before_assets_go: Callable[[list[str]], None],
) -> None:
    """Delete the project and everything under it; ``before_assets_go`` gets the ids of its
    assets (whose bytes must go) before they are deleted."""
    project = get(session, account, project_id)
    before_assets_go(assets.ids_in_project(session, project.id))
    assets.delete_all_in_project(session, project.id)
    session.delete(project)
